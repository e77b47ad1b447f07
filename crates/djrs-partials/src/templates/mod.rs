//! [`Templates`]: a Tera 2 instance that understands Django's partials.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{PoisonError, RwLock};

use tera::{ArgFromValue, Context, Filter, Function, FunctionResult, Tera, Test, TestResult};

use self::state::{Inner, add_files, apply_autoescape, delimiters_of, new_tera, resolve_name};
use crate::error::{Error, Result};
use crate::loader::{self, LoadedFile, Root};
use crate::preprocess::Delims;

mod state;

/// Tera's default autoescaped suffixes, which Django's `.html` templates match.
const DEFAULT_AUTOESCAPE: [&str; 3] = [".html", ".htm", ".xml"];

/// Tera 2 templates with Django 6.0's partials: `{% partialdef %}`, `{% partial %}`,
/// `"file.html#name"` in [`render`](Self::render) and in `{% include %}`.
///
/// Everything Tera does still works: filters, functions, tests, inheritance, components. Output
/// is escaped the way Django escapes it ([`escape_html`](crate::escape_html)) in files ending in `.html`, `.htm` or
/// `.xml`, partials included. In debug builds, templates loaded from disk are reloaded when a
/// file changes ([`set_auto_reload`](Self::set_auto_reload)).
///
/// ```
/// use djrs_partials::Templates;
///
/// let mut templates = Templates::new();
/// templates.add_raw_template(
///     "articles.html",
///     "{% partialdef card %}<li>{{ loop.index }}/{{ loop.length }} {{ article }}</li>{% endpartialdef %}\
///      <ul>{% for article in articles %}{% partial card %}{% endfor %}</ul>",
/// )?;
/// let mut ctx = tera::Context::new();
/// ctx.insert("articles", &["Tera", "htmx"]);
/// assert_eq!(
///     templates.render("articles.html", &ctx)?,
///     "<ul><li>1/2 Tera</li><li>2/2 htmx</li></ul>"
/// );
///
/// // One card alone, with only the context given:
/// let mut ctx = tera::Context::new();
/// ctx.insert("article", "Partials & you");
/// let err = templates.render("articles.html#card", &ctx).unwrap_err();
/// assert!(err.to_string().contains("is not defined"), "no loop here: {err}");
/// # Ok::<(), djrs_partials::Error>(())
/// ```
pub struct Templates {
    inner: RwLock<Inner>,
    auto_reload: bool,
}

impl fmt::Debug for Templates {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let inner = self.read();
        let mut names: Vec<&String> = inner.files.keys().collect();
        names.sort();
        f.debug_struct("Templates")
            .field("templates", &names)
            .field("auto_reload", &self.auto_reload)
            .finish_non_exhaustive()
    }
}

impl Default for Templates {
    fn default() -> Self {
        Self::new()
    }
}

impl Templates {
    /// An empty set of templates, with Django's escaping and, in debug builds, auto-reload.
    ///
    /// ```
    /// let templates = djrs_partials::Templates::new();
    /// assert_eq!(templates.template_names().len(), 0);
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self {
            inner: RwLock::new(Inner {
                tera: new_tera(),
                delims: Delims::default(),
                autoescape: DEFAULT_AUTOESCAPE.iter().map(|s| (*s).to_owned()).collect(),
                files: HashMap::new(),
                roots: Vec::new(),
                stamps: Vec::new(),
                stale: HashSet::new(),
            }),
            auto_reload: cfg!(debug_assertions),
        }
    }

    /// Loads every file under `dir` (recursively); each is named by its path relative to `dir`
    /// with `/` separators, as Django's filesystem loader names them.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir(dir.path().join("blog"))?;
    /// std::fs::write(dir.path().join("blog/list.html"), "{% partialdef item %}*{% endpartialdef %}")?;
    /// let templates = djrs_partials::Templates::from_dir(dir.path())?;
    /// assert_eq!(templates.render("blog/list.html#item", &tera::Context::new())?, "*");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Io`] when the directory cannot be read, and any load error of
    /// [`add_raw_templates`](Self::add_raw_templates).
    pub fn from_dir(dir: impl AsRef<Path>) -> Result<Self> {
        let mut templates = Self::new();
        templates.load_dir(dir)?;
        Ok(templates)
    }

    /// Loads the files matching a glob such as `"templates/**/*.html"`: the part before the
    /// first component with a wildcard is the directory, and names are relative to it (`*` and
    /// `?` stay within one path component, `**` matches any number of them).
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.html"), "A")?;
    /// std::fs::write(dir.path().join("notes.txt"), "not a template")?;
    /// let glob = format!("{}/**/*.html", dir.path().display());
    /// let templates = djrs_partials::Templates::from_glob(&glob)?;
    /// assert_eq!(templates.template_names(), ["a.html"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_dir`](Self::from_dir).
    pub fn from_glob(glob: &str) -> Result<Self> {
        let mut templates = Self::new();
        templates.load_glob(glob)?;
        Ok(templates)
    }

    /// Adds the files under `dir`, as [`from_dir`](Self::from_dir) does; filters and functions
    /// the templates use must be registered first.
    ///
    /// ```
    /// use tera::{Kwargs, State};
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.html"), "{{ 2 | double }}")?;
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.register_filter("double", |x: i64, _: Kwargs, _: &State| x * 2);
    /// templates.load_dir(dir.path())?;
    /// assert_eq!(templates.render("a.html", &tera::Context::new())?, "4");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_dir`](Self::from_dir).
    pub fn load_dir(&mut self, dir: impl AsRef<Path>) -> Result<()> {
        self.load_root(Root::dir(dir.as_ref()))
    }

    /// Adds the files matching `glob`, as [`from_glob`](Self::from_glob) does.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// std::fs::create_dir(dir.path().join("emails"))?;
    /// std::fs::write(dir.path().join("emails/welcome.txt"), "Hi {{ name }}")?;
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.load_glob(&format!("{}/emails/*.txt", dir.path().display()))?;
    /// assert_eq!(templates.template_names(), ["welcome.txt"]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`from_dir`](Self::from_dir).
    pub fn load_glob(&mut self, glob: &str) -> Result<()> {
        self.load_root(Root::glob(glob)?)
    }

    fn load_root(&mut self, root: Root) -> Result<()> {
        let found = root.read()?;
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        add_files(inner, found)?;
        inner.roots.push(root);
        Ok(())
    }

    /// Adds one template from a string; its partials become `"name#partial"`.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("a.html", "{% partialdef p inline %}[{{ x }}]{% endpartialdef %}!")?;
    /// let ctx = tera::Context::from_serialize(&serde_json::json!({"x": 1}))?;
    /// assert_eq!(templates.render("a.html", &ctx)?, "[1]!");
    /// assert_eq!(templates.render("a.html#p", &ctx)?, "[1]");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`add_raw_templates`](Self::add_raw_templates).
    pub fn add_raw_template(&mut self, name: &str, source: &str) -> Result<()> {
        self.add_raw_templates([(name, source)])
    }

    /// Adds several templates at once (templates that include or extend each other must come
    /// in the same call or after the ones they use). Nothing is added when one fails.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_templates([
    ///     ("cards.html", "{% partialdef card %}<b>{{ t }}</b>{% endpartialdef %}"),
    ///     ("page.html", r#"{% for t in ["a", "b"] %}{% include "cards.html#card" %}{% endfor %}"#),
    /// ])?;
    /// assert_eq!(templates.render("page.html", &tera::Context::new())?, "<b>a</b><b>b</b>");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Syntax`] for malformed partial tags (Django's messages), [`Error::InvalidName`]
    /// for a name with `#`, [`Error::Tera`] for what Tera rejects.
    pub fn add_raw_templates<I, N, S>(&mut self, templates: I) -> Result<()>
    where
        I: IntoIterator<Item = (N, S)>,
        N: AsRef<str>,
        S: AsRef<str>,
    {
        let files = templates
            .into_iter()
            .map(|(n, s)| (n.as_ref().to_owned(), s.as_ref().to_owned(), None))
            .collect();
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        add_files(inner, files)
    }

    /// Renders a template, or one partial with `"file.html#name"` (a name ending in `#`
    /// renders the whole file, as in Django).
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("p.html", "{% partialdef hi %}Hi {{ who }}{% endpartialdef %}")?;
    /// let ctx = tera::Context::from_serialize(&serde_json::json!({"who": "<you>"}))?;
    /// assert_eq!(templates.render("p.html", &ctx)?, "");
    /// assert_eq!(templates.render("p.html#hi", &ctx)?, "Hi &lt;you&gt;");
    /// assert_eq!(templates.render("p.html#", &ctx)?, "");
    /// let missing = templates.render("p.html#bye", &ctx).unwrap_err();
    /// assert!(matches!(missing, djrs_partials::Error::TemplateDoesNotExist { .. }));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::TemplateDoesNotExist`] with Django's name for what is missing,
    /// [`Error::UndefinedPartial`] when a `{% partial %}` of an undefined name is reached,
    /// [`Error::Tera`] for Tera's render errors, and in debug builds the load errors of a
    /// changed file.
    pub fn render(&self, name: &str, context: &Context) -> Result<String> {
        if self.auto_reload {
            self.reload_if_changed()?;
        }
        let inner = self.read();
        // Fast path: a loaded file or partial is a Tera template of the same name.
        if inner.stale.is_empty() || !inner.stale.contains(name) {
            match inner.tera.render(name, context) {
                Err(e) if matches!(e.kind(), tera::ErrorKind::TemplateNotFound(n) if n == name) => {
                }
                other => return other.map_err(|e| inner.render_error(e)),
            }
        }
        let target = resolve_name(&inner.files, name)?;
        inner
            .tera
            .render(target, context)
            .map_err(|e| inner.render_error(e))
    }

    /// Renders into a writer; see [`render`](Self::render).
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("t.txt", "{% partialdef p %}P{% endpartialdef %}")?;
    /// let mut out = Vec::new();
    /// templates.render_to("t.txt#p", &tera::Context::new(), &mut out)?;
    /// assert_eq!(out, b"P");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`render`](Self::render).
    pub fn render_to(&self, name: &str, context: &Context, out: impl std::io::Write) -> Result<()> {
        if self.auto_reload {
            self.reload_if_changed()?;
        }
        let inner = self.read();
        let target = resolve_name(&inner.files, name)?;
        inner
            .tera
            .render_to(target, context, out)
            .map_err(|e| inner.render_error(e))
    }

    /// Renders several templates or partials with one context and concatenates them: the main
    /// fragment plus out-of-band fragments (`hx-swap-oob`) for one htmx response.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template(
    ///     "p.html",
    ///     r#"{% partialdef list %}<ul></ul>{% endpartialdef %}{% partialdef count %}<span id="n" hx-swap-oob="true">{{ n }}</span>{% endpartialdef %}"#,
    /// )?;
    /// let ctx = tera::Context::from_serialize(&serde_json::json!({"n": 0}))?;
    /// assert_eq!(
    ///     templates.render_many(["p.html#list", "p.html#count"], &ctx)?,
    ///     r#"<ul></ul><span id="n" hx-swap-oob="true">0</span>"#
    /// );
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// As [`render`](Self::render), for the first that fails.
    pub fn render_many<'a>(
        &self,
        names: impl IntoIterator<Item = &'a str>,
        context: &Context,
    ) -> Result<String> {
        let mut out = String::new();
        for name in names {
            out.push_str(&self.render(name, context)?);
        }
        Ok(out)
    }

    /// Whether `name` (a file, or `"file#partial"`) is loaded.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("a.html", "{% partialdef p %}{% endpartialdef %}")?;
    /// assert!(templates.contains("a.html") && templates.contains("a.html#p"));
    /// assert!(!templates.contains("a.html#q"));
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    #[must_use]
    pub fn contains(&self, name: &str) -> bool {
        resolve_name(&self.read().files, name).is_ok()
    }

    /// The loaded files' names, sorted (partials are not listed).
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_templates([("b.html", ""), ("a.html", "")])?;
    /// assert_eq!(templates.template_names(), ["a.html", "b.html"]);
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    #[must_use]
    pub fn template_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.read().files.keys().cloned().collect();
        names.sort();
        names
    }

    /// The names of the partials a file defines, in the order their definitions end.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("a.html", "{% partialdef o %}{% partialdef i %}{% endpartialdef %}{% endpartialdef %}")?;
    /// assert_eq!(templates.partial_names("a.html"), ["i", "o"]);
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    #[must_use]
    pub fn partial_names(&self, file: &str) -> Vec<String> {
        self.read()
            .files
            .get(file)
            .map(|f| f.partials.iter().map(|p| p.name.clone()).collect())
            .unwrap_or_default()
    }

    /// A partial's definition as written, from `{% partialdef %}` to its end tag (Django's
    /// `PartialTemplate.source` with `debug` on), for `"file#name"`.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("a.html", "x{% partialdef p %}P{% endpartialdef p %}y")?;
    /// assert_eq!(templates.partial_source("a.html#p").as_deref(), Some("{% partialdef p %}P{% endpartialdef p %}"));
    /// assert_eq!(templates.partial_source("a.html#q"), None);
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    #[must_use]
    pub fn partial_source(&self, name: &str) -> Option<String> {
        let (file, partial) = name.split_once('#')?;
        let inner = self.read();
        let file = inner.files.get(file)?;
        file.partials
            .iter()
            .find(|p| p.name == partial)
            .map(|p| p.source.clone())
    }

    /// Turns reloading of changed files on or off (on by default in debug builds, off in
    /// release builds). Only templates read from disk are reloaded.
    ///
    /// ```
    /// let templates = djrs_partials::Templates::new().set_auto_reload(false);
    /// # let _ = templates;
    /// ```
    #[must_use]
    pub fn set_auto_reload(mut self, on: bool) -> Self {
        self.auto_reload = on;
        self
    }

    /// Re-reads the files loaded from disk if any changed, appeared or disappeared; returns
    /// whether it reloaded. [`render`](Self::render) calls it first when auto-reload is on.
    ///
    /// ```
    /// let dir = tempfile::tempdir()?;
    /// std::fs::write(dir.path().join("a.html"), "one")?;
    /// let templates = djrs_partials::Templates::from_dir(dir.path())?.set_auto_reload(false);
    /// assert!(!templates.reload_if_changed()?);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// The load errors of the changed files; the previous templates stay in place.
    pub fn reload_if_changed(&self) -> Result<bool> {
        let (roots, stamps) = {
            let inner = self.read();
            if inner.roots.is_empty() {
                return Ok(false);
            }
            (inner.roots.clone(), inner.stamps.clone())
        };
        let mut listed = Vec::new();
        for root in &roots {
            listed.extend(root.list()?);
        }
        let current = loader::stamps(listed.iter().map(PathBuf::as_path));
        if current == stamps {
            return Ok(false);
        }
        let mut inner = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut fresh = new_tera();
        fresh.register_from(&inner.tera);
        *fresh.global_context() = inner.tera.global_context().clone();
        let mut files: Vec<LoadedFile> = inner
            .files
            .iter()
            .filter(|(_, f)| f.path.is_none())
            .map(|(n, f)| (n.clone(), f.source.clone(), None))
            .collect();
        for root in &roots {
            files.extend(root.read()?);
        }
        let mut next = Inner {
            tera: fresh,
            delims: inner.delims.clone(),
            autoescape: inner.autoescape.clone(),
            files: HashMap::new(),
            roots: inner.roots.clone(),
            stamps: Vec::new(),
            stale: HashSet::new(),
        };
        if let Some(delims) = delimiters_of(&next.delims) {
            next.tera.set_delimiters(delims).map_err(Error::from_tera)?;
        }
        add_files(&mut next, files)?;
        *inner = next;
        Ok(true)
    }

    /// Registers a Tera filter, as [`Tera::register_filter`] does.
    ///
    /// ```
    /// use tera::{Kwargs, State};
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.register_filter("double", |x: i64, _: Kwargs, _: &State| x * 2);
    /// templates.add_raw_template("a.html", "{{ 21 | double }}")?;
    /// assert_eq!(templates.render("a.html", &tera::Context::new())?, "42");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn register_filter<Func, Arg, Res>(
        &mut self,
        name: impl Into<Cow<'static, str>>,
        filter: Func,
    ) where
        Func: Filter<Arg, Res> + for<'a> Filter<<Arg as ArgFromValue<'a>>::Output, Res>,
        Arg: for<'a> ArgFromValue<'a>,
        Res: FunctionResult,
    {
        self.tera_mut().register_filter(name, filter);
    }

    /// Registers a Tera test, as [`Tera::register_test`] does.
    ///
    /// ```
    /// use tera::{Kwargs, State};
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.register_test("odd", |x: i64, _: Kwargs, _: &State| x % 2 != 0);
    /// templates.add_raw_template("a.html", "{% if 3 is odd %}odd{% endif %}")?;
    /// assert_eq!(templates.render("a.html", &tera::Context::new())?, "odd");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn register_test<Func, Arg, Res>(&mut self, name: impl Into<Cow<'static, str>>, test: Func)
    where
        Func: Test<Arg, Res> + for<'a> Test<<Arg as ArgFromValue<'a>>::Output, Res>,
        Arg: for<'a> ArgFromValue<'a>,
        Res: TestResult,
    {
        self.tera_mut().register_test(name, test);
    }

    /// Registers a Tera function, as [`Tera::register_function`] does.
    ///
    /// ```
    /// use tera::{Kwargs, State};
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.register_function("answer", |_: Kwargs, _: &State| 42);
    /// templates.add_raw_template("a.html", "{{ answer() }}")?;
    /// assert_eq!(templates.render("a.html", &tera::Context::new())?, "42");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn register_function<Func, Res>(&mut self, name: impl Into<Cow<'static, str>>, func: Func)
    where
        Func: Function<Res>,
        Res: FunctionResult,
    {
        self.tera_mut().register_function(name, func);
    }

    /// Sets the files whose output is HTML-escaped by suffix (default `.html`, `.htm`, `.xml`);
    /// a partial is escaped when its file is.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.autoescape_on([".html", ".svg"]);
    /// templates.add_raw_template("i.svg", "{% partialdef p %}{{ \"<\" }}{% endpartialdef %}")?;
    /// assert_eq!(templates.render("i.svg#p", &tera::Context::new())?, "&lt;");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn autoescape_on<S: Into<String>>(&mut self, suffixes: impl IntoIterator<Item = S>) {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        inner.autoescape = suffixes.into_iter().map(Into::into).collect();
        apply_autoescape(inner);
    }

    /// Sets custom delimiters (Tera's [`tera::Delimiters`]); the partial tags use them too.
    /// Call before adding templates.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.set_delimiters(tera::Delimiters {
    ///     block_start: "<%".into(), block_end: "%>".into(),
    ///     variable_start: "<<".into(), variable_end: ">>".into(),
    ///     comment_start: "<#".into(), comment_end: "#>".into(),
    /// })?;
    /// templates.add_raw_template("t.tex", "<% partialdef p %>\\textbf{<< x >>}<% endpartialdef %>")?;
    /// let ctx = tera::Context::from_serialize(&serde_json::json!({"x": 1}))?;
    /// assert_eq!(templates.render("t.tex#p", &ctx)?, "\\textbf{1}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::Tera`] when the delimiters are invalid or templates were already added.
    pub fn set_delimiters(&mut self, delimiters: tera::Delimiters) -> Result<()> {
        let inner = self.inner.get_mut().unwrap_or_else(PoisonError::into_inner);
        let delims = Delims::from(&delimiters);
        inner
            .tera
            .set_delimiters(delimiters)
            .map_err(Error::from_tera)?;
        inner.delims = delims;
        Ok(())
    }

    /// The underlying Tera instance, for what this type does not wrap. Templates added to it
    /// directly do not get partials.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.tera_mut().global_context().insert("site", "djrs");
    /// templates.add_raw_template("a.html", "{{ site }}")?;
    /// assert_eq!(templates.render("a.html", &tera::Context::new())?, "djrs");
    /// # Ok::<(), djrs_partials::Error>(())
    /// ```
    pub fn tera_mut(&mut self) -> &mut Tera {
        &mut self
            .inner
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .tera
    }

    /// Runs `f` with the underlying Tera instance, for instance to render a template with
    /// Tera's own API. Partial `p` of `file` is the Tera template `"file#p"`.
    ///
    /// ```
    /// let mut templates = djrs_partials::Templates::new();
    /// templates.add_raw_template("a.html", "{% partialdef p %}P{% endpartialdef %}")?;
    /// let out = templates.with_tera(|tera| tera.render("a.html#p", &tera::Context::new()))?;
    /// assert_eq!(out, "P");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn with_tera<R>(&self, f: impl FnOnce(&Tera) -> R) -> R {
        f(&self.read().tera)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Inner> {
        self.inner.read().unwrap_or_else(PoisonError::into_inner)
    }
}

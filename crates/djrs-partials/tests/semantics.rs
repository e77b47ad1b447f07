//! Django's partial semantics on Tera: context, loops, blocks, Tera syntax, errors with lines,
//! loading from disk and auto-reload.

use djrs_partials::{Error, Templates};
use serde_json::json;

#[allow(
    clippy::needless_pass_by_value,
    reason = "called with json!(…) temporaries"
)]
fn ctx(value: serde_json::Value) -> tera::Context {
    tera::Context::from_serialize(&value).unwrap()
}

fn one(source: &str) -> Templates {
    let mut t = Templates::new();
    t.add_raw_template("t.html", source).unwrap();
    t
}

#[test]
fn a_partial_sees_loop_fields_set_values_and_the_loop_item() {
    let t = one(
        "{% partialdef row %}{{ loop.index }}/{{ loop.length }}{% if loop.first %}F{% endif %}\
         {% if loop.last %}L{% endif %}:{{ item }}{{ suffix }};{% endpartialdef %}\
         {% set suffix = \"!\" %}{% for item in items %}{% partial row %}{% endfor %}",
    );
    assert_eq!(
        t.render("t.html", &ctx(json!({"items": ["a", "b", "c"]})))
            .unwrap(),
        "1/3F:a!;2/3:b!;3/3L:c!;"
    );
}

#[test]
fn set_inside_the_loop_and_nested_loops_inside_the_partial() {
    let t = one(
        "{% partialdef p %}[{{ n }}{% for y in ys %}{{ loop.index }}{% endfor %}|{{ loop.index0 }}]{% endpartialdef %}\
         {% for x in xs %}{% set n = x * 10 %}{% partial p %}{% endfor %}",
    );
    assert_eq!(
        t.render("t.html", &ctx(json!({"xs": [1, 2], "ys": ["a", "b"]})))
            .unwrap(),
        "[1012|0][2012|1]"
    );
}

#[test]
fn inline_partial_inside_a_loop_and_inside_a_nested_partial() {
    let t = one(
        "{% for item in items %}{% partialdef row inline %}<{{ loop.index }}{% partialdef cell inline %}({{ item }}){% endpartialdef %}>{% endpartialdef %}{% endfor %}",
    );
    assert_eq!(
        t.render("t.html", &ctx(json!({"items": ["a", "b"]})))
            .unwrap(),
        "<1(a)><2(b)>"
    );
    assert_eq!(
        t.render("t.html#cell", &ctx(json!({"item": "z"}))).unwrap(),
        "(z)"
    );
    assert_eq!(t.partial_names("t.html"), ["cell", "row"]);
}

#[test]
fn partials_belong_to_their_file() {
    let mut t = Templates::new();
    t.add_raw_templates([
        ("base.html", "{% partialdef p %}base{% endpartialdef %}<{% block b %}{% partial p %}{% endblock b %}>"),
        ("child.html", "{% extends \"base.html\" %}{% partialdef p %}child{% endpartialdef %}{% block b %}{% partial p %}+{{ super() }}{% endblock b %}"),
        ("other.html", "{% extends \"base.html\" %}{% block b %}{% partial p %}{% endblock b %}"),
    ])
    .unwrap();
    let c = tera::Context::new();
    assert_eq!(t.render("base.html", &c).unwrap(), "<base>");
    assert_eq!(t.render("child.html", &c).unwrap(), "<child+base>");
    let err = t.render("other.html", &c).unwrap_err();
    assert_eq!(
        err.message(),
        "Partial 'p' is not defined in the current template."
    );
    assert_eq!((err.template(), err.line()), (Some("other.html"), Some(1)));
}

#[test]
fn a_block_inside_a_partial_renders() {
    let t =
        one("{% partialdef p inline %}{% block b %}B{{ x }}{% endblock b %}{% endpartialdef %}");
    assert_eq!(t.render("t.html", &ctx(json!({"x": 1}))).unwrap(), "B1");
    assert_eq!(t.render("t.html#p", &ctx(json!({"x": 2}))).unwrap(), "B2");
}

#[test]
fn raw_comments_strings_and_whitespace_control() {
    let t = one(
        "{% raw %}{% partial nope %}{% endraw %}{# {% partialdef c %} #}{{ \"{% partial x %}\" }}\
         a {%- partialdef p -%} P {%- endpartialdef -%} b {% partial p %}",
    );
    assert_eq!(
        t.render("t.html", &tera::Context::new()).unwrap(),
        "{% partial nope %}{% partial x %}ab P"
    );
    assert_eq!(t.render("t.html#p", &tera::Context::new()).unwrap(), "P");
}

#[test]
fn names_django_allows() {
    let t = one(
        "{% partialdef a.b %}1{% endpartialdef %}{% partialdef 'x y' %}2{% endpartialdef %}\
         {% partialdef inline %}3{% endpartialdef %}{% partial a.b %}{% partial 'x y' %}{% partial inline %}",
    );
    let c = tera::Context::new();
    assert_eq!(t.render("t.html", &c).unwrap(), "123");
    assert_eq!(t.render("t.html#'x y'", &c).unwrap(), "2");
    assert_eq!(t.render("t.html#inline", &c).unwrap(), "3");
}

#[test]
fn tera_errors_inside_a_partial_point_at_the_file_line() {
    let mut t = Templates::new();
    let err = t
        .add_raw_template(
            "t.html",
            "one\ntwo\n{% partialdef p %}\nfour\n{{ x | }}\n{% endpartialdef %}",
        )
        .unwrap_err();
    assert!(matches!(err, Error::Tera { .. }), "{err:?}");
    assert_eq!((err.template(), err.line()), (Some("t.html#p"), Some(5)));

    let t = one("a\n{% partialdef p %}\n\n{{ missing }}{% endpartialdef %}\n{% partial p %}");
    let err = t.render("t.html", &tera::Context::new()).unwrap_err();
    assert_eq!(
        (err.template(), err.line()),
        (Some("t.html#p"), Some(4)),
        "{err}"
    );
    // Lines after a definition are unchanged too.
    let t = one("{% partialdef p %}\n\n{% endpartialdef %}\n{{ missing }}");
    let err = t.render("t.html", &tera::Context::new()).unwrap_err();
    assert_eq!(err.line(), Some(4), "{err}");
}

#[test]
fn syntax_errors_with_django_messages_and_lines() {
    let cases = [
        ("x\n{% partialdef %}", "'partialdef' tag requires a name", 2),
        (
            "{% partialdef a b c %}",
            "'partialdef' tag takes at most 2 arguments",
            1,
        ),
        (
            "\n\n{% partialdef a INLINE %}{% endpartialdef %}",
            "The 'inline' argument does not have any parameters; either use 'inline' or remove it completely.",
            3,
        ),
        (
            "{% partial %}",
            "'partial' tag requires a single argument",
            1,
        ),
        (
            "\n{% partialdef a %}",
            "Unclosed tag on line 2: 'partialdef'. Looking for one of: endpartialdef, endpartialdef a.",
            2,
        ),
        (
            "{% partialdef a %}\n{% endpartialdef b %}",
            "Invalid block tag on line 2: 'endpartialdef', expected 'endpartialdef' or 'endpartialdef a'. Did you forget to register or load this tag?",
            2,
        ),
        (
            "\n\n{% endpartialdef %}",
            "Invalid block tag on line 3: 'endpartialdef'. Did you forget to register or load this tag?",
            3,
        ),
        (
            "{% partialdef a %}{% endpartialdef %}\n{% partialdef a %}{% endpartialdef %}",
            "Partial 'a' is already defined in the 't.html' template.",
            2,
        ),
    ];
    for (source, message, line) in cases {
        let err = Templates::new()
            .add_raw_template("t.html", source)
            .unwrap_err();
        assert!(matches!(err, Error::Syntax { .. }), "{source}: {err:?}");
        assert_eq!(err.message(), message, "{source}");
        assert_eq!(err.line(), Some(line), "{source}");
        assert_eq!(
            err.to_string(),
            format!("Template: t.html, {message} (line {line})")
        );
    }
}

#[test]
fn a_failed_load_changes_nothing() {
    let mut t = Templates::new();
    t.add_raw_template("a.html", "{% partialdef p %}A{% endpartialdef %}")
        .unwrap();
    assert!(
        t.add_raw_template("a.html", "{% partialdef q %}{{ x | }}{% endpartialdef %}")
            .is_err()
    );
    assert_eq!(t.render("a.html#p", &tera::Context::new()).unwrap(), "A");
    assert!(!t.contains("a.html#q"));
}

#[test]
fn recursion_is_refused_at_load_time() {
    let err = Templates::new()
        .add_raw_template(
            "t.html",
            "{% partialdef p %}{% partial p %}{% endpartialdef %}",
        )
        .unwrap_err();
    assert!(err.to_string().contains("Circular include"), "{err}");
}

#[test]
fn file_names_with_a_hash_are_refused() {
    let err = Templates::new()
        .add_raw_template("a#b.html", "")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidName { .. }));
}

#[test]
fn text_files_are_not_escaped_and_html_partials_are() {
    let mut t = Templates::new();
    t.add_raw_templates([
        ("a.txt", "{% partialdef p %}{{ s }}{% endpartialdef %}"),
        ("a.html", "{% partialdef p %}{{ s }}{% endpartialdef %}"),
    ])
    .unwrap();
    let c = ctx(json!({"s": "<'>"}));
    assert_eq!(t.render("a.txt#p", &c).unwrap(), "<'>");
    assert_eq!(t.render("a.html#p", &c).unwrap(), "&lt;&#x27;&gt;");
}

#[test]
fn directories_globs_and_auto_reload() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("blog/cards")).unwrap();
    let card = dir.path().join("blog/cards/card.html");
    std::fs::write(&card, "{% partialdef title %}v1 {{ t }}{% endpartialdef %}").unwrap();
    std::fs::write(
        dir.path().join("blog/list.html"),
        "{% for t in ts %}{% include \"blog/cards/card.html#title\" %};{% endfor %}",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), "{% partial broken").unwrap();

    let glob = format!("{}/blog/**/card.html", dir.path().display());
    let t = Templates::from_glob(&glob).unwrap();
    assert_eq!(t.template_names(), ["cards/card.html"]);
    // A whole directory includes notes.txt, which Tera rejects, naming it.
    let err = Templates::from_dir(dir.path()).unwrap_err();
    assert_eq!(err.template(), Some("notes.txt"), "{err}");

    let glob = format!("{}/**/*.html", dir.path().display());
    let t = Templates::from_glob(&glob).unwrap().set_auto_reload(true);
    let c = ctx(json!({"ts": ["a"], "t": "x"}));
    assert_eq!(t.render("blog/list.html", &c).unwrap(), "v1 a;");

    std::fs::write(&card, "{% partialdef title %}v2 {{ t }}{% endpartialdef %}").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&card)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert_eq!(t.render("blog/list.html", &c).unwrap(), "v2 a;");

    // A broken edit is reported and the previous templates stay.
    std::fs::write(&card, "{% partialdef title %}").unwrap();
    let later = later + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&card)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(matches!(
        t.render("blog/list.html", &c),
        Err(Error::Syntax { .. })
    ));
    assert_eq!(
        t.with_tera(|tera| tera.render("blog/list.html", &c))
            .unwrap(),
        "v2 a;"
    );

    // A new file appears.
    std::fs::write(&card, "{% partialdef title %}v3{% endpartialdef %}").unwrap();
    std::fs::write(dir.path().join("new.html"), "new").unwrap();
    assert_eq!(t.render("new.html", &c).unwrap(), "new");
    assert_eq!(t.render("blog/cards/card.html#title", &c).unwrap(), "v3");
}

#[test]
fn registered_filters_survive_a_reload() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a.html");
    std::fs::write(&file, "{{ 2 | triple }}").unwrap();
    let mut t = Templates::new().set_auto_reload(true);
    t.register_filter("triple", |x: i64, _: tera::Kwargs, _: &tera::State<'_>| {
        x * 3
    });
    t.load_dir(dir.path()).unwrap();
    t.add_raw_template("raw.html", "{{ 1 | triple }}").unwrap();
    std::fs::write(&file, "{{ 3 | triple }}").unwrap();
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    std::fs::File::options()
        .write(true)
        .open(&file)
        .unwrap()
        .set_modified(later)
        .unwrap();
    assert!(t.reload_if_changed().unwrap());
    let c = tera::Context::new();
    assert_eq!(t.render("a.html", &c).unwrap(), "9");
    assert_eq!(t.render("raw.html", &c).unwrap(), "3");
}

#[test]
fn a_replaced_file_loses_the_partials_it_no_longer_defines() {
    let mut t = Templates::new();
    t.add_raw_template(
        "a.html",
        "{% partialdef p %}P{% endpartialdef %}{% partialdef q %}Q{% endpartialdef %}",
    )
    .unwrap();
    t.add_raw_template("a.html", "{% partialdef p %}P2{% endpartialdef %}")
        .unwrap();
    let c = tera::Context::new();
    assert_eq!(t.render("a.html#p", &c).unwrap(), "P2");
    let err = t.render("a.html#q", &c).unwrap_err();
    assert!(
        matches!(err, Error::TemplateDoesNotExist { ref name, .. } if name == "q"),
        "{err:?}"
    );
    assert!(!t.contains("a.html#q"));
    // Defined again, it is back.
    t.add_raw_template("a.html", "{% partialdef q %}Q3{% endpartialdef %}")
        .unwrap();
    assert_eq!(t.render("a.html#q", &c).unwrap(), "Q3");
}

#[test]
fn an_inline_partial_outside_the_blocks_of_a_child_is_not_output_but_addressable() {
    let mut t = Templates::new();
    t.add_raw_templates([
        ("base.html", "<{% block b %}{% endblock b %}>"),
        ("child.html", "{% extends \"base.html\" %}{% partialdef p inline %}P{{ x }}{% endpartialdef %}{% block b %}B{% endblock b %}"),
    ])
    .unwrap();
    let c = ctx(json!({"x": 1}));
    assert_eq!(t.render("child.html", &c).unwrap(), "<B>");
    assert_eq!(t.render("child.html#p", &c).unwrap(), "P1");
}

#[test]
fn a_partial_used_outside_the_blocks_of_a_child_renders_nothing() {
    let mut t = Templates::new();
    t.add_raw_templates([
        ("base.html", "<{% block b %}{% endblock b %}>"),
        ("child.html", "{% extends \"base.html\" %}{% partialdef p %}P{% endpartialdef %}\n{% partial p %}\n{% block b %}{% partial p %}{% endblock b %}"),
    ])
    .unwrap();
    assert_eq!(
        t.render("child.html", &tera::Context::new()).unwrap(),
        "<P>"
    );
}

#[test]
fn a_partial_cannot_be_extended() {
    let mut t = Templates::new();
    t.add_raw_template(
        "base.html",
        "{% partialdef p %}{% block b %}{% endblock b %}{% endpartialdef %}",
    )
    .unwrap();
    let err = t
        .add_raw_template(
            "child.html",
            "{% extends \"base.html#p\" %}{% block b %}x{% endblock b %}",
        )
        .unwrap_err();
    assert!(
        matches!(err, Error::TemplateDoesNotExist { ref name, .. } if name == "base.html#p"),
        "{err:?}"
    );
}

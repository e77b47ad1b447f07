//! Conformance with Django 6.0.10: every case of `tests/data/partials.json`.
//!
//! The rule deciding which cases are compared (documented in `docs/partials.md`):
//!
//! 1. Django's loop names are renamed to Tera's: `forloop.counter0` → `loop.index0`,
//!    `forloop.counter` → `loop.index`, `forloop.length` → `loop.length`, `forloop.first` →
//!    `loop.first`, `forloop.last` → `loop.last`.
//! 2. A template is *shared syntax* when, after that, every tag is one of `partialdef`,
//!    `endpartialdef`, `partial`, `for X in PATH`, `endfor`, `if`/`else`/`endif` over paths,
//!    literals and `==`/`!=`/`not`/`and`/`or`, `block`/`endblock`, and `extends`/`include` of
//!    one string literal, and every `{{ }}` holds a plain variable path (no filters, not
//!    Django's `block.super`). Cases
//!    that are not shared syntax are listed (the test prints them) and skipped; the test fails
//!    if that list changes.
//! 3. Django prints `""` for a variable missing from the context; Tera fails with
//!    "Variable `x` is not defined". Where Django's output relied on that, the test requires
//!    exactly that Tera error, for a variable that is indeed absent.
//! 4. Partial sources are always kept (Django keeps them only with `debug=True`), so
//!    `partial_source_without_debug` is the one documented non-case.

use std::collections::BTreeSet;

use djrs_partials::{Error, Templates};
use serde_json::Value;

const DATA: &str = include_str!("data/partials.json");

/// Cases skipped by rule 2, by id or name; the test fails if the rule's result changes.
const NOT_SHARED: [&str; 17] = [
    "tpl-012",
    "tpl-013",
    "tpl-014",
    "tpl-015",
    "tpl-016",
    "tpl-019",
    "tpl-026",
    "tpl-029",
    "tpl-030",
    "tpl-032",
    "all counters",
    "missing variable",
    "None sequence",
    "nested parentloop.length",
    "length with filter",
    "length in nested partial loops",
    "forloop dict repr keys",
];

fn translate(source: &str) -> String {
    source
        .replace("forloop.counter0", "loop.index0")
        .replace("forloop.counter", "loop.index")
        .replace("forloop.length", "loop.length")
        .replace("forloop.first", "loop.first")
        .replace("forloop.last", "loop.last")
}

fn is_path(s: &str) -> bool {
    // `block.super` is Django's; Tera writes `super()`.
    s != "block.super"
        && !s.is_empty()
        && s.split('.').all(|p| {
            !p.is_empty()
                && p.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !p.starts_with(|c: char| c.is_ascii_digit())
        })
}

fn is_literal(s: &str) -> bool {
    (s.len() >= 2 && s.starts_with('"') && s.ends_with('"') && !s[1..s.len() - 1].contains('"'))
        || s.parse::<i64>().is_ok()
        || matches!(s, "True" | "False" | "true" | "false")
}

/// Rule 2.
fn shared_syntax(source: &str) -> bool {
    let mut rest = source;
    while let Some(start) = rest.find(['{']) {
        let after = &rest[start..];
        let (close, is_tag) = if after.starts_with("{%") {
            ("%}", true)
        } else if after.starts_with("{{") {
            ("}}", false)
        } else {
            rest = &rest[start + 1..];
            continue;
        };
        let Some(end) = after.find(close) else {
            return false;
        };
        let content = after[2..end].trim();
        rest = &after[end + 2..];
        if !is_tag {
            if !is_path(content) {
                return false;
            }
            continue;
        }
        let words: Vec<&str> = content.split_whitespace().collect();
        let ok = match words.as_slice() {
            ["partialdef" | "endpartialdef" | "partial", ..] => true,
            ["for", x, "in", path] => is_path(x) && is_path(path),
            ["endfor" | "else" | "endif" | "endblock"] => true,
            ["block", name] | ["endblock", name] => is_path(name),
            ["extends" | "include", lit] => is_literal(lit) && lit.starts_with('"'),
            ["if", expr @ ..] => expr.iter().all(|w| {
                is_path(w) || is_literal(w) || matches!(*w, "==" | "!=" | "not" | "and" | "or")
            }),
            _ => false,
        };
        if !ok {
            return false;
        }
    }
    !source.contains("forloop")
}

fn context_of(value: &Value) -> tera::Context {
    tera::Context::from_serialize(value).expect("context is an object")
}

/// Rule 3: Tera's error for a variable that is not in `ctx` (printed, or looped over).
fn undefined_variable(err: &Error, ctx: &Value) -> bool {
    let Error::Tera { message, .. } = err else {
        return false;
    };
    if let Some(start) = message.find("Variable `") {
        let start = start + "Variable `".len();
        let Some(len) = message[start..].find('`') else {
            return false;
        };
        let name = &message[start..start + len];
        return name.starts_with("__tera_loop_") || name == "loop" || ctx.get(name).is_none();
    }
    // `{% for x in missing %}`: the report points at the missing name.
    message.contains("Iteration not possible on type `undefined`")
        && message.lines().last().is_some_and(|l| l.contains('^'))
}

#[derive(Default)]
struct Tally {
    compared: usize,
    undefined: usize,
    skipped: BTreeSet<String>,
}

impl Tally {
    /// Compares one recorded Django result with ours.
    fn check(&mut self, what: &str, expected: &Value, got: &Result<String, Error>, ctx: &Value) {
        match (expected.get("ok"), got) {
            (Some(ok), Ok(out)) => {
                assert_eq!(ok.as_str(), Some(out.as_str()), "{what}");
                self.compared += 1;
            }
            (Some(ok), Err(e)) => {
                assert!(
                    undefined_variable(e, ctx),
                    "{what}: Django gave {ok}, we failed: {e}"
                );
                self.undefined += 1;
            }
            (None, Ok(out)) => panic!("{what}: Django failed with {expected}, we gave {out:?}"),
            (None, Err(e)) => {
                let err = &expected["error"];
                let class = err["class"].as_str().unwrap_or_default();
                let message = err["message"].as_str().unwrap_or_default();
                let raw = err
                    .get("raw_error_message")
                    .and_then(Value::as_str)
                    .unwrap_or(message);
                match class {
                    "TemplateSyntaxError" => {
                        assert!(
                            matches!(e, Error::Syntax { .. } | Error::UndefinedPartial { .. }),
                            "{what}: expected a syntax error, got {e:?}"
                        );
                        assert_eq!(e.message(), raw, "{what}");
                        assert!(
                            e.to_string().starts_with(message) || !message.starts_with("Template:"),
                            "{what}: {e}"
                        );
                        assert!(e.line().is_some() && e.template().is_some(), "{what}");
                    }
                    "TemplateDoesNotExist" => {
                        assert!(
                            matches!(e, Error::TemplateDoesNotExist { .. }),
                            "{what}: {e:?}"
                        );
                        assert_eq!(e.message(), message, "{what}");
                    }
                    other => panic!("{what}: unexpected class {other}"),
                }
                self.compared += 1;
            }
        }
    }
}

#[test]
fn django_partials_conformance() {
    let data: Value = serde_json::from_str(DATA).unwrap();
    let cases = data["templates"].as_array().unwrap();
    let mut tally = Tally::default();

    // Every shared-syntax template that loads in Django goes into one instance (they include
    // and extend each other); those that fail to load are loaded alone.
    let mut templates = Templates::new();
    let mut good = Vec::new();
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let source = translate(case["source"].as_str().unwrap());
        if !shared_syntax(&source) {
            tally.skipped.insert(id.to_owned());
            continue;
        }
        let loads = case["full"]
            .get("error")
            .is_none_or(|e| e["phase"] != "load");
        if loads {
            good.push((case["template"].as_str().unwrap().to_owned(), source));
        } else {
            let mut alone = Templates::new();
            let got = alone
                .add_raw_template(case["template"].as_str().unwrap(), &source)
                .map(|()| String::new());
            tally.check(&format!("{id} load"), &case["full"], &got, &case["context"]);
        }
    }
    templates
        .add_raw_templates(good.iter().map(|(n, s)| (n.as_str(), s.as_str())))
        .unwrap();

    for case in cases {
        let id = case["id"].as_str().unwrap();
        let name = case["template"].as_str().unwrap();
        if tally.skipped.contains(id) || !templates.contains(name) {
            continue;
        }
        let ctx_json = &case["context"];
        let ctx = context_of(ctx_json);
        tally.check(
            &format!("{id} full"),
            &case["full"],
            &templates.render(name, &ctx),
            ctx_json,
        );
        for partial in case["partials"].as_array().unwrap() {
            let load = partial["load"].as_str().unwrap();
            let got = templates.render(load, &ctx);
            tally.check(
                &format!("{id} {load} standalone"),
                &partial["render"],
                &got,
                ctx_json,
            );
            tally.check(
                &format!("{id} {load} render_to_string"),
                &partial["render_to_string"],
                &got,
                ctx_json,
            );
            let empty = serde_json::json!({});
            let got = templates.render(load, &tera::Context::new());
            tally.check(
                &format!("{id} {load} empty"),
                &partial["render_empty_context"],
                &got,
                &empty,
            );
            let source = templates.partial_source(load);
            assert_eq!(
                source.as_deref(),
                partial["source_debug"]["ok"]
                    .as_str()
                    .map(translate)
                    .as_deref(),
                "{id} {load} source"
            );
            tally.compared += 1;
        }
    }

    let common = &cases[0]["context"];
    for load in data["loads"].as_array().unwrap() {
        let name = load["load"].as_str().unwrap();
        let got = templates.render(name, &context_of(common));
        tally.check(&format!("load {name}"), &load["render"], &got, common);
    }

    for case in data["from_string_errors"].as_array().unwrap() {
        let name = case["template"].as_str().unwrap();
        let source = translate(case["source"].as_str().unwrap());
        assert!(shared_syntax(&source), "{name}");
        let mut alone = Templates::new();
        let got = alone
            .add_raw_template(name, &source)
            .and_then(|()| alone.render(name, &tera::Context::new()));
        tally.check(
            &format!("from_string {name}"),
            &case["result"],
            &got,
            &serde_json::json!({}),
        );
    }

    for case in data["forloop_length"].as_array().unwrap() {
        let name = case["name"].as_str().unwrap();
        let source = translate(case["source"].as_str().unwrap());
        if !shared_syntax(&source) {
            tally.skipped.insert(name.to_owned());
            continue;
        }
        let mut alone = Templates::new();
        alone.add_raw_template("t.html", &source).unwrap();
        let got = alone.render("t.html", &context_of(&case["context"]));
        tally.check(
            &format!("forloop_length {name}"),
            &case["render"],
            &got,
            &case["context"],
        );
    }

    println!(
        "compared {} results, {} undefined-variable differences (rule 3), skipped (rule 2): {:?}",
        tally.compared, tally.undefined, tally.skipped
    );
    let expected: BTreeSet<String> = NOT_SHARED.iter().map(|s| (*s).to_owned()).collect();
    assert_eq!(
        tally.skipped, expected,
        "the set of non-shared cases changed"
    );
    // Exact counts, so that a result moving from "identical" to rule 3 is noticed.
    assert_eq!((tally.compared, tally.undefined), (106, 22));
}

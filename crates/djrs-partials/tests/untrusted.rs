//! Template sources are untrusted input: whatever they hold, loading and rendering give a
//! result or a typed error, never a panic.

use djrs_partials::Templates;
use proptest::prelude::*;

/// Pieces that exercise the scanner: partial tags (good and broken), Tera tags, delimiters cut
/// in half, strings, comments, `raw`, loop fields, multi-byte text and newlines.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{% partialdef p %}".to_owned()),
        Just("{% partialdef q inline %}".to_owned()),
        Just("{%- partialdef r -%}".to_owned()),
        Just("{% partialdef %}".to_owned()),
        Just("{% partialdef p x y %}".to_owned()),
        Just("{% endpartialdef %}".to_owned()),
        Just("{% endpartialdef p %}".to_owned()),
        Just("{%- endpartialdef q -%}".to_owned()),
        Just("{% partial p %}".to_owned()),
        Just("{% partial q %}".to_owned()),
        Just("{% partial nope %}".to_owned()),
        Just("{% partial %}".to_owned()),
        Just("{% for item in items %}".to_owned()),
        Just("{% endfor %}".to_owned()),
        Just("{% if x %}".to_owned()),
        Just("{% endif %}".to_owned()),
        Just("{% raw %}".to_owned()),
        Just("{% endraw %}".to_owned()),
        Just("{{ loop.index }}".to_owned()),
        Just("{{ item }}".to_owned()),
        Just("{{ \"%}\" }}".to_owned()),
        Just("{# {% partial p %} #}".to_owned()),
        Just("{%".to_owned()),
        Just("%}".to_owned()),
        Just("{{".to_owned()),
        Just("{#".to_owned()),
        Just("\"".to_owned()),
        Just("'".to_owned()),
        Just("`".to_owned()),
        Just("\n".to_owned()),
        "[a-zé€ü ]{0,6}",
        "\\PC{0,4}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_source_loads_and_renders_without_panicking(pieces in prop::collection::vec(piece(), 0..24)) {
        let source: String = pieces.concat();
        let mut templates = Templates::new();
        if templates.add_raw_template("t.html", &source).is_ok() {
            let mut ctx = tera::Context::new();
            ctx.insert("items", &[1, 2]);
            ctx.insert("x", &true);
            let _ = templates.render("t.html", &ctx);
            for name in templates.partial_names("t.html") {
                let _ = templates.render(&format!("t.html#{name}"), &ctx);
            }
        }
    }
}

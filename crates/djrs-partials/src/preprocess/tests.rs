//! The preprocessor's unit tests: rewritten sources, kept lines, Django's errors.

use super::*;

fn pp(src: &str) -> Preprocessed {
    preprocess("t.html", src, &Delims::default()).unwrap()
}

#[test]
fn definitions_become_includes_and_comments() {
    let p = pp("{% partialdef a %}A{% endpartialdef %}x{% partial a %}");
    assert_eq!(p.main, "x{% include \"t.html#a\" %}");
    assert_eq!(p.partials[0].tera_source, "A");
    assert_eq!(
        p.partials[0].source,
        "{% partialdef a %}A{% endpartialdef %}"
    );
    let p = pp("{% partialdef a inline %}A{% endpartialdef a %}");
    assert_eq!(p.main, "{% include \"t.html#a\" %}");
}

#[test]
fn lines_are_kept() {
    let p = pp("1\n{% partialdef a %}\nA\n{% endpartialdef %}\n{{ x }}");
    assert_eq!(p.main, "1\n{# \n\n#}\n{{ x }}");
    assert_eq!(p.partials[0].tera_source, "{# \n#}\nA\n");
}

#[test]
fn loop_fields_are_rewritten_outside_body_loops_only() {
    let p = pp(
        "{% partialdef a %}{{ loop.index }}{% for y in ys %}{{ loop.index }}{% endfor %}\
         {{ 'loop.index' }}{{ myloop.index }}{% endpartialdef %}",
    );
    assert_eq!(
        p.partials[0].tera_source,
        "{{ __tera_loop_index }}{% for y in ys %}{{ loop.index }}{% endfor %}\
         {{ 'loop.index' }}{{ myloop.index }}"
    );
}

#[test]
fn loop_fields_inside_strings_are_left_alone() {
    for quote in ['"', '\'', '`'] {
        let source = format!(
            "{{% partialdef a %}}{{{{ {quote} loop.index{quote} ~ loop.index }}}}{{% endpartialdef %}}"
        );
        assert_eq!(
            pp(&source).partials[0].tera_source,
            format!("{{{{ {quote} loop.index{quote} ~ __tera_loop_index }}}}"),
            "{quote}"
        );
    }
}

#[test]
fn a_comment_ends_at_its_own_end_delimiter() {
    // A tag opener just before the comment's end is part of the comment.
    let p = pp("x{# {%#}{% partialdef a %}A{% endpartialdef %}");
    assert_eq!(p.main, "x{# {%#}");
    assert_eq!(p.partials[0].tera_source, "A");
}

#[test]
fn rewrite_loop_vars_table() {
    for (text, want) in [
        ("loop", "loop"),
        ("loop ", "loop "),
        ("loop.", "loop."),
        ("loop. ", "loop. "),
        ("loop.index", "__tera_loop_index"),
        ("loop  .  first", "__tera_loop_first"),
        ("{{ loop.length }}", "{{ __tera_loop_length }}"),
        (
            "x.loop.index my_loop.index loop.indexes",
            "x.loop.index my_loop.index loop.indexes",
        ),
        ("'loop.index' loop.last", "'loop.index' __tera_loop_last"),
    ] {
        assert_eq!(rewrite_loop_vars(text), want, "{text:?}");
    }
}

#[test]
fn loop_fields_outside_partials_are_left_alone() {
    for source in [
        "{{ loop.index }}",
        "{% if loop.first %}x{% endif %}",
        "{% for x in xs %}{{ loop.index }}{% endfor %}{{ loop.last }}",
    ] {
        assert_eq!(pp(source).main, source);
    }
}

#[test]
fn a_raw_block_ends_at_endraw_only() {
    // A tag inside the raw block that ends with a tag opener is skipped whole.
    for source in [
        "{% raw %}{% a {%%}{% endraw %}b",
        "{% raw %}{% a %}{%- endraw -%}b",
    ] {
        let p = pp(source);
        assert_eq!(p.main, source);
        assert!(p.partials.is_empty());
    }
    let p = pp("{% raw %}{% partialdef a %}{% endraw %}{% partialdef b %}B{% endpartialdef %}");
    assert_eq!(p.main, "{% raw %}{% partialdef a %}{% endraw %}");
    assert_eq!(p.partials[0].name, "b");
}

#[test]
fn raw_and_comments_are_left_alone() {
    let src = "{% raw %}{% partial x %}{% endraw %}{# {% partialdef y %} #}";
    assert_eq!(pp(src).main, src);
}

#[test]
fn undefined_use_becomes_a_failing_call() {
    let p = pp("{% partial nope %}");
    assert_eq!(
        p.main,
        "{{ __djrs_undefined_partial(name=\"nope\", template=\"t.html\", line=1) }}"
    );
}

#[test]
fn preprocess_table() {
    // (source, main template, partials as (name, Tera source))
    type Case<'a> = (&'a str, &'a str, &'a [(&'a str, &'a str)]);
    let cases: &[Case<'_>] = &[
        (
            "{% partialdef \"my card\" %}C{% endpartialdef %}{% partial \"my card\" %}",
            "{% include 't.html#\"my card\"' %}",
            &[("\"my card\"", "C")],
        ),
        (
            "{% partialdef a\"b'c %}Q{% endpartialdef %}{% partial a\"b'c %}",
            "{% include `t.html#a\"b'c` %}",
            &[("a\"b'c", "Q")],
        ),
        (
            "{%- partialdef a -%} A {%- endpartialdef -%} x {%- partial a -%}",
            "{#- -#} x {%- include \"t.html#a\" -%}",
            &[("a", "{# -#} A {#- #}")],
        ),
        (
            "{% partialdef a inline -%}A{%- endpartialdef %}",
            "{% include \"t.html#a\" %}",
            &[("a", "{# -#}A{#- #}")],
        ),
        (
            "{%- partial nope -%}",
            "{{- __djrs_undefined_partial(name=\"nope\", template=\"t.html\", line=1) -}}",
            &[],
        ),
        (
            "{{ \"}}\" }}{% if x == \"%}\" %}{% partial a %}{% endif %}{% partialdef a %}A{% endpartialdef %}",
            "{{ \"}}\" }}{% if x == \"%}\" %}{% include \"t.html#a\" %}{% endif %}",
            &[("a", "A")],
        ),
        (
            "{{ `}}` }}{% partialdef a %}{{ loop.index }}{% endpartialdef %}",
            "{{ `}}` }}",
            &[("a", "{{ __tera_loop_index }}")],
        ),
        (
            "{{ \"abc }}{% partial a %}{% partialdef a %}A{% endpartialdef %}",
            "{{ \"abc }}{% include \"t.html#a\" %}",
            &[("a", "A")],
        ),
        (
            "{% partialdef a %}{{ loop . index0 }}{{ loop.first }}{{ loop.last }}{{ loop.length }}{{ loop.other }}{{ x.loop.index }}{{ _loop.index }}{{ loop.indexes }}{{ `loop.index` }}{% endpartialdef %}",
            "",
            &[(
                "a",
                "{{ __tera_loop_index0 }}{{ __tera_loop_first }}{{ __tera_loop_last }}{{ __tera_loop_length }}{{ loop.other }}{{ x.loop.index }}{{ _loop.index }}{{ loop.indexes }}{{ `loop.index` }}",
            )],
        ),
        (
            "{% partialdef a %}{% for x in loop.index %}{{ loop.index }}{% for y in z %}{{ loop.first }}{% endfor %}{{ loop.last }}{% endfor %}{{ loop.length }}{% endpartialdef %}",
            "",
            &[(
                "a",
                "{% for x in __tera_loop_index %}{{ loop.index }}{% for y in z %}{{ loop.first }}{% endfor %}{{ loop.last }}{% endfor %}{{ __tera_loop_length }}",
            )],
        ),
        (
            "{% partialdef a %}{% partialdef b inline %}B{{ loop.index }}{% endpartialdef %}A{% endpartialdef %}{% partial b %}",
            "{% include \"t.html#b\" %}",
            &[
                ("b", "B{{ __tera_loop_index }}"),
                ("a", "{% include \"t.html#b\" %}A"),
            ],
        ),
        (
            "{% extends \"base.html\" %}{% partial a %}{% partialdef a inline %}A{% endpartialdef %}{% block c %}{% partial a %}{% endblock %}{% partial a %}",
            "{% extends \"base.html\" %}{% block c %}{% include \"t.html#a\" %}{% endblock %}",
            &[("a", "A")],
        ),
        (
            "{% extends \"base.html\" %}{% block c %}{% block d %}{% endblock %}{% partial a %}{% endblock %}{% partialdef a %}A{% endpartialdef %}",
            "{% extends \"base.html\" %}{% block c %}{% block d %}{% endblock %}{% include \"t.html#a\" %}{% endblock %}",
            &[("a", "A")],
        ),
        (
            "{%- raw -%}{% partial x %}{%- endraw -%}{% partial y %}",
            "{%- raw -%}{% partial x %}{%- endraw -%}{{ __djrs_undefined_partial(name=\"y\", template=\"t.html\", line=1) }}",
            &[],
        ),
        ("{% raw %}{% partial x %}", "{% raw %}{% partial x %}", &[]),
        (
            "{# unterminated {% partial x %}",
            "{# unterminated {% partial x %}",
            &[],
        ),
        ("{% partial x", "{% partial x", &[]),
        ("x{{ y }}", "x{{ y }}", &[]),
        (
            "a\n{% partialdef a %}\n{% partial b %}\n{% endpartialdef %}",
            "a\n{# \n\n#}",
            &[(
                "a",
                "{# \n#}\n{{ __djrs_undefined_partial(name=\"b\", template=\"t.html\", line=3) }}\n",
            )],
        ),
    ];
    for (source, main, partials) in cases {
        let p = preprocess("t.html", source, &Delims::default())
            .unwrap_or_else(|err| panic!("{source:?}: {err}"));
        assert_eq!(p.main, *main, "{source:?}");
        let got: Vec<(&str, &str)> = p
            .partials
            .iter()
            .map(|x| (x.name.as_str(), x.tera_source.as_str()))
            .collect();
        assert_eq!(got, *partials, "{source:?}");
    }
}

#[test]
fn mistakes_are_errors_with_their_line() {
    // (source, line, message): a typo is an error, never a template that renders wrong.
    let cases: &[(&str, usize, &str)] = &[
        (
            "{% partialdef a\"b'c`d %}Q{% endpartialdef %}{% partial a\"b'c`d %}",
            1,
            "The name \"t.html#a\\\"b'c`d\" contains all three quote characters (\", ' and `), so Tera cannot refer to it; rename the partial or the template.",
        ),
        (
            "{% partialdef a %}",
            1,
            "Unclosed tag on line 1: 'partialdef'. Looking for one of: endpartialdef, endpartialdef a.",
        ),
        (
            "{% partialdef a other %}{% endpartialdef %}",
            1,
            "The 'inline' argument does not have any parameters; either use 'inline' or remove it completely.",
        ),
        (
            "{% partialdef a inline x %}{% endpartialdef %}",
            1,
            "'partialdef' tag takes at most 2 arguments",
        ),
        ("{% partialdef %}", 1, "'partialdef' tag requires a name"),
        (
            "{% endpartialdef %}",
            1,
            "Invalid block tag on line 1: 'endpartialdef'. Did you forget to register or load this tag?",
        ),
        (
            "{% partialdef a %}A{% endpartialdef b %}",
            1,
            "Invalid block tag on line 1: 'endpartialdef', expected 'endpartialdef' or 'endpartialdef a'. Did you forget to register or load this tag?",
        ),
        (
            "{% partial %}",
            1,
            "'partial' tag requires a single argument",
        ),
        (
            "{% partialdef a %}A{% endpartialdef %}\n{% partialdef a %}B{% endpartialdef %}",
            2,
            "Partial 'a' is already defined in the 't.html' template.",
        ),
        (
            "{{ x\n}}{# c\n#}{% raw %}\n{% endraw %}{% partial %}",
            4,
            "'partial' tag requires a single argument",
        ),
    ];
    for (source, line, message) in cases {
        match preprocess("t.html", source, &Delims::default()) {
            Err(Error::Syntax {
                template,
                line: got_line,
                message: got,
            }) => {
                assert_eq!(template, "t.html", "{source:?}");
                assert_eq!((got_line, got.as_str()), (*line, *message), "{source:?}");
            }
            other => panic!("{source:?}: {other:?}"),
        }
    }
    // A quote in a name opens a string up to the next quote, several tags away: an error
    // about the unclosed definition, not a template that renders something else.
    let unbalanced = "{% partialdef it's %}I{% endpartialdef %}{% partial it's %}";
    let err = preprocess("t.html", unbalanced, &Delims::default()).unwrap_err();
    assert!(
        err.to_string()
            .contains("Unclosed tag on line 1: 'partialdef'"),
        "{err}"
    );
    let err = preprocess(
        "t.html",
        "{% extends \"other.html#frag\" %}",
        &Delims::default(),
    );
    assert!(
        matches!(err, Err(Error::TemplateDoesNotExist { ref name, ref tried }) if name == "other.html#frag" && tried == &["t.html"]),
        "{err:?}"
    );
}

#[test]
fn split_contents_table() {
    let cases: &[(&str, &[&str])] = &[
        ("", &[]),
        ("   ", &[]),
        ("partialdef a", &["partialdef", "a"]),
        ("  a \t\n b  ", &["a", "b"]),
        ("a \"b c\" 'd e'", &["a", "\"b c\"", "'d e'"]),
        ("a\"b c\"d e", &["a\"b c\"d", "e"]),
        ("\"it's\" x", &["\"it's\"", "x"]),
        ("'unclosed x", &["'unclosed x"]),
    ];
    for (content, want) in cases {
        assert_eq!(split_contents(content), *want, "{content:?}");
    }
}

#[test]
fn errors_carry_line() {
    let e = preprocess("t.html", "\n\n{% partialdef %}", &Delims::default()).unwrap_err();
    assert!(matches!(e, Error::Syntax { line: 3, .. }), "{e:?}");
    let e = preprocess("t.html", "\n{% partialdef a %}", &Delims::default()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "Template: t.html, Unclosed tag on line 2: 'partialdef'. Looking for one of: \
         endpartialdef, endpartialdef a. (line 2)"
    );
}

#[test]
fn non_ascii_text_next_to_loop_fields() {
    let p =
        pp("{% partialdef a %}{{ \"é\" ~ loop.index ~ 'ü' }}ü{{ éloop.index }}{% endpartialdef %}");
    assert_eq!(
        p.partials[0].tera_source,
        "{{ \"é\" ~ __tera_loop_index ~ 'ü' }}ü{{ éloop.index }}"
    );
}

#[test]
fn custom_delimiters() {
    let d = Delims::from(&tera::Delimiters {
        block_start: "<%".into(),
        block_end: "%>".into(),
        variable_start: "<<".into(),
        variable_end: ">>".into(),
        comment_start: "<#".into(),
        comment_end: "#>".into(),
    });
    assert_eq!(
        (d.block, d.var, d.comment),
        (
            ("<%".to_owned(), "%>".to_owned()),
            ("<<".to_owned(), ">>".to_owned()),
            ("<#".to_owned(), "#>".to_owned())
        )
    );
    let d = Delims {
        block: ("<%".into(), "%>".into()),
        var: ("<<".into(), ">>".into()),
        comment: ("<#".into(), "#>".into()),
    };
    let p = preprocess(
        "t.html",
        "<% partialdef a %>A<% endpartialdef %>\n<% partial a %>",
        &d,
    )
    .unwrap();
    assert_eq!(p.main, "\n<% include \"t.html#a\" %>");
}

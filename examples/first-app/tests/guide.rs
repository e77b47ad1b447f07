//! `docs/first-app.md` shows this example's `Cargo.toml` and `src/main.rs` whole: the guide
//! cannot drift from the code CI builds and tests.

const GUIDE: &str = include_str!("../../../docs/first-app.md");
const MANIFEST: &str = include_str!("../Cargo.toml");
const MAIN: &str = include_str!("../src/main.rs");

/// The body of the first fenced block of `lang` after the line `marker`.
fn block_after<'g>(guide: &'g str, marker: &str, lang: &str) -> &'g str {
    let start = guide
        .find(marker)
        .unwrap_or_else(|| panic!("the guide has {marker:?}"));
    let fence = format!("```{lang}\n");
    let from = start + guide[start..].find(&fence).expect("a fenced block") + fence.len();
    let len = guide[from..].find("\n```\n").expect("the block ends");
    &guide[from..=from + len]
}

#[test]
fn the_guide_shows_the_manifest() {
    // In the workspace, djrs comes from its path, and the tests have their own dependencies.
    let published = MANIFEST
        .replace(r#"path = "../../crates/djrs", "#, "")
        .split("\n[dev-dependencies]")
        .next()
        .unwrap()
        .trim_end()
        .to_owned()
        + "\n";
    assert_eq!(block_after(GUIDE, "## Cargo.toml", "toml"), published);
}

#[test]
fn the_guide_shows_main_rs() {
    assert_eq!(block_after(GUIDE, "## src/main.rs", "rust"), MAIN);
}

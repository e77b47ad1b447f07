//! Out-of-band fragments: htmx swaps an element marked `hx-swap-oob` into the page wherever its
//! target is, beside the response's main content.

use crate::{Error, Result};

/// Marks a rendered fragment for an out-of-band swap: its first element gets
/// `hx-swap-oob="{swap}"`. `swap` is what htmx 2 reads there: `"true"` replaces the element
/// of the same `id`, `"innerHTML"` (or any `hx-swap` style) swaps into it, and
/// `"beforeend:#log"` names another target.
///
/// ```
/// let count = djrs_partials::out_of_band(r#"<span id="starred">3</span>"#, "true")?;
/// assert_eq!(count, r#"<span hx-swap-oob="true" id="starred">3</span>"#);
///
/// // Leading white space and comments are kept; the value is escaped.
/// let row = djrs_partials::out_of_band("\n<!-- row --><li>new</li>", "beforeend:#log")?;
/// assert_eq!(row, "\n<!-- row --><li hx-swap-oob=\"beforeend:#log\">new</li>");
///
/// // Text is not an element, and an element marked already is not marked twice.
/// assert!(djrs_partials::out_of_band("3 starred", "true").is_err());
/// assert!(djrs_partials::out_of_band(r#"<i hx-swap-oob="true">3</i>"#, "true").is_err());
/// # Ok::<(), djrs_partials::Error>(())
/// ```
///
/// # Errors
/// [`Error::OutOfBand`] when the fragment does not begin with an element (after white space
/// and comments), or its first element has an `hx-swap-oob` attribute already.
pub fn out_of_band(html: &str, swap: &str) -> Result<String> {
    let at = name_end(html)?;
    let mut value = Vec::with_capacity(swap.len());
    crate::escape_html(swap, &mut value).map_err(|_| refusal("the swap cannot be escaped"))?;
    let value = String::from_utf8(value).map_err(|_| refusal("the swap cannot be escaped"))?;
    let mut out = String::with_capacity(html.len() + value.len() + 16);
    out.push_str(&html[..at]);
    out.push_str(" hx-swap-oob=\"");
    out.push_str(&value);
    out.push('"');
    out.push_str(&html[at..]);
    Ok(out)
}

fn refusal(reason: &str) -> Error {
    Error::OutOfBand {
        reason: reason.to_owned(),
    }
}

/// Where the first element's tag name ends, once its attributes are known not to hold
/// `hx-swap-oob`.
fn name_end(html: &str) -> Result<usize> {
    let bytes = html.as_bytes();
    let mut i = 0;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if html[i..].starts_with("<!--") {
            let end = html[i + 4..]
                .find("-->")
                .ok_or_else(|| refusal("a comment is not closed"))?;
            i += 4 + end + 3;
            continue;
        }
        break;
    }
    if bytes.get(i) != Some(&b'<') || !bytes.get(i + 1).is_some_and(u8::is_ascii_alphabetic) {
        return Err(refusal(
            "the fragment does not begin with an element (wrap it in one)",
        ));
    }
    let mut end = i + 1;
    while end < bytes.len() && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'-') {
        end += 1;
    }
    if attribute_names(&html[end..]).any(|name| name.eq_ignore_ascii_case("hx-swap-oob")) {
        return Err(refusal(
            "its first element has an hx-swap-oob attribute already",
        ));
    }
    Ok(end)
}

/// The attribute names of a start tag, from just after its name to its `>`.
fn attribute_names(tag: &str) -> impl Iterator<Item = &str> {
    let bytes = tag.as_bytes();
    let mut i = 0;
    std::iter::from_fn(move || {
        loop {
            while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
                i += 1;
            }
            if i >= bytes.len() || bytes[i] == b'>' {
                return None;
            }
            let start = i;
            while i < bytes.len()
                && !matches!(bytes[i], b'=' | b'>' | b'/')
                && !bytes[i].is_ascii_whitespace()
            {
                i += 1;
            }
            let name = &tag[start..i];
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            if bytes.get(i) == Some(&b'=') {
                i += 1;
                while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                    i += 1;
                }
                match bytes.get(i) {
                    Some(&quote @ (b'"' | b'\'')) => {
                        i += 1;
                        while i < bytes.len() && bytes[i] != quote {
                            i += 1;
                        }
                        i += 1;
                    }
                    _ => {
                        while i < bytes.len() && bytes[i] != b'>' && !bytes[i].is_ascii_whitespace()
                        {
                            i += 1;
                        }
                    }
                }
            }
            if !name.is_empty() {
                return Some(name);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn marks_the_first_element_only() {
        let cases = [
            (
                "<li>a</li><li>b</li>",
                "true",
                "<li hx-swap-oob=\"true\">a</li><li>b</li>",
            ),
            (
                "<tr id=\"r\"><td>1</td></tr>",
                "outerHTML",
                "<tr hx-swap-oob=\"outerHTML\" id=\"r\"><td>1</td></tr>",
            ),
            ("  <br/>", "true", "  <br hx-swap-oob=\"true\"/>"),
            (
                "<my-el x=1>",
                "a\"b<",
                "<my-el hx-swap-oob=\"a&quot;b&lt;\" x=1>",
            ),
            (
                "<!--a--> <!--b--><p>",
                "true",
                "<!--a--> <!--b--><p hx-swap-oob=\"true\">",
            ),
            // Fragments cut short inside the tag are marked without reading past their end.
            ("<br", "true", "<br hx-swap-oob=\"true\""),
            ("<p ", "true", "<p hx-swap-oob=\"true\" "),
            ("<p a", "true", "<p hx-swap-oob=\"true\" a"),
            ("<p a=", "true", "<p hx-swap-oob=\"true\" a="),
            ("<p a='x", "true", "<p hx-swap-oob=\"true\" a='x"),
        ];
        for (html, swap, want) in cases {
            assert_eq!(out_of_band(html, swap).unwrap(), want, "{html}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_mark() {
        for html in [
            "",
            "   ",
            "text <p>",
            "<!-- open",
            "</p>",
            "<1>",
            "<p hx-swap-oob>",
            "<p class=\"a>b\" HX-SWAP-OOB='x'>",
            "<p data-x=1 hx-swap-oob=true>",
        ] {
            let err = out_of_band(html, "true").unwrap_err();
            assert!(matches!(err, Error::OutOfBand { .. }), "{html}: {err}");
        }
    }

    #[test]
    fn attribute_values_hide_names() {
        let names: Vec<&str> = attribute_names(" a=\"hx-swap-oob\" b='>' c=d e/>").collect();
        assert_eq!(names, ["a", "b", "c", "e"]);
        assert_eq!(attribute_names(">hx-swap-oob").count(), 0);
        // White space around `=` and inside quoted values; values cut short.
        for (tag, want) in [
            (" a = \"hx-swap-oob\" b>", &["a", "b"][..]),
            (" a= 'x y' hx-swap-oob>", &["a", "hx-swap-oob"][..]),
            (" a =x b c=\"\">", &["a", "b", "c"][..]),
            (" a =  \"x>y\"  >z", &["a"][..]),
            (" a=\"x", &["a"][..]),
            (" a ", &["a"][..]),
            (" a= ", &["a"][..]),
        ] {
            assert_eq!(attribute_names(tag).collect::<Vec<_>>(), want, "{tag:?}");
        }
    }
}

//! Django's HTML escaping, which [`Templates`](crate::Templates) installs in Tera.

/// Django's `django.utils.html.escape`: `&`, `<`, `>`, `"` and `'` (as `&#x27;`, where Tera's
/// own escaper writes `&#39;`).
///
/// [`Templates::new`](crate::Templates::new) installs it so output matches Django's byte for byte.
///
/// ```
/// let mut out = Vec::new();
/// djrs_partials::escape_html("<a href='x'>&\"</a>", &mut out)?;
/// assert_eq!(out, b"&lt;a href=&#x27;x&#x27;&gt;&amp;&quot;&lt;/a&gt;");
/// # Ok::<(), std::io::Error>(())
/// ```
///
/// # Errors
/// When writing to `out` fails.
pub fn escape_html(input: &str, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let bytes = input.as_bytes();
    let mut start = 0;
    for (i, b) in bytes.iter().enumerate() {
        let rep: &[u8] = match b {
            b'&' => b"&amp;",
            b'<' => b"&lt;",
            b'>' => b"&gt;",
            b'"' => b"&quot;",
            b'\'' => b"&#x27;",
            _ => continue,
        };
        out.write_all(&bytes[start..i])?;
        out.write_all(rep)?;
        start = i + 1;
    }
    out.write_all(&bytes[start..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escape_matches_django() {
        let mut out = Vec::new();
        escape_html("a'b\"<>&", &mut out).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a&#x27;b&quot;&lt;&gt;&amp;"
        );
    }
}

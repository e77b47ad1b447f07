//! Raw page numbers, parsed exactly as Django's `Paginator.validate_number` does.
//!
//! Django calls Python's `int()` on whatever it is given, so a page number may arrive as an
//! integer, a query-string value, a float or nothing at all. [`PageNumber`] models those shapes;
//! [`parse_python_int`] reproduces `int(str)` for base 10: surrounding Unicode whitespace, an
//! optional sign, single underscores between digits and any Unicode decimal digit (`"٣"`, `"２"`).

/// A page number as a request or a caller supplies it, before validation.
///
/// Every shape Django accepts has a variant, so one call site handles a typed number and a raw
/// query-string value alike:
///
/// ```
/// use djrs_paginate::PageNumber;
///
/// assert_eq!(PageNumber::from(3), PageNumber::Int(3));
/// assert_eq!(PageNumber::from("3"), PageNumber::Str("3"));
/// assert_eq!(PageNumber::from(None::<&str>), PageNumber::Missing);
/// assert_eq!(PageNumber::from(true), PageNumber::Int(1)); // Python counts `True` as 1
/// ```
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PageNumber<'a> {
    /// An integer. Wide enough that any value a caller can hold compares correctly.
    Int(i128),
    /// Raw text, typically the `page` query-string value.
    Str(&'a str),
    /// A float; accepted only when it is integral, as in Django.
    Float(f64),
    /// No value at all (Python's `None`): always "not an integer".
    Missing,
}

impl PageNumber<'_> {
    /// Converts to an integer the way Django does (`int(number)`), or `None` when Django would
    /// raise `PageNotAnInteger`.
    ///
    /// Values beyond `i128` saturate, which keeps every comparison with a page count correct.
    ///
    /// ```
    /// use djrs_paginate::PageNumber;
    ///
    /// assert_eq!(PageNumber::Str(" +1_0 ").to_int(), Some(10));
    /// assert_eq!(PageNumber::Str("1.0").to_int(), None);
    /// assert_eq!(PageNumber::Float(2.0).to_int(), Some(2));
    /// assert_eq!(PageNumber::Float(2.5).to_int(), None);
    /// ```
    #[must_use]
    pub fn to_int(&self) -> Option<i128> {
        match *self {
            PageNumber::Int(n) => Some(n),
            PageNumber::Str(s) => parse_python_int(s),
            // `float.is_integer()` is false for NaN and the infinities; a saturating cast is
            // exact for every integral float below 2^127 and keeps the order beyond it.
            PageNumber::Float(f) if f.is_finite() && f.fract() == 0.0 => Some(f as i128),
            PageNumber::Float(_) | PageNumber::Missing => None,
        }
    }
}

macro_rules! from_int {
    ($($t:ty),*) => {$(
        impl From<$t> for PageNumber<'_> {
            fn from(n: $t) -> Self {
                PageNumber::Int(i128::from(n))
            }
        }
    )*};
}
from_int!(i8, i16, i32, i64, i128, u8, u16, u32, u64);

impl From<usize> for PageNumber<'_> {
    fn from(n: usize) -> Self {
        // usize is at most 64 bits on every supported target.
        PageNumber::Int(n as i128)
    }
}

impl From<isize> for PageNumber<'_> {
    fn from(n: isize) -> Self {
        PageNumber::Int(n as i128)
    }
}

impl From<bool> for PageNumber<'_> {
    fn from(b: bool) -> Self {
        PageNumber::Int(i128::from(b))
    }
}

impl From<f64> for PageNumber<'_> {
    fn from(f: f64) -> Self {
        PageNumber::Float(f)
    }
}

impl<'a> From<&'a str> for PageNumber<'a> {
    fn from(s: &'a str) -> Self {
        PageNumber::Str(s)
    }
}

impl<'a> From<&'a String> for PageNumber<'a> {
    fn from(s: &'a String) -> Self {
        PageNumber::Str(s)
    }
}

impl<'a, T: Into<PageNumber<'a>>> From<Option<T>> for PageNumber<'a> {
    fn from(v: Option<T>) -> Self {
        v.map_or(PageNumber::Missing, Into::into)
    }
}

impl<'a> From<&'a Option<String>> for PageNumber<'a> {
    fn from(v: &'a Option<String>) -> Self {
        v.as_deref().map_or(PageNumber::Missing, PageNumber::Str)
    }
}

/// Parses text as Python's `int(text)` does in base 10, saturating at the bounds of `i128`.
///
/// Returns `None` where Python raises `ValueError`.
///
/// ```
/// use djrs_paginate::parse_python_int;
///
/// assert_eq!(parse_python_int("\t-02\n"), Some(-2));
/// assert_eq!(parse_python_int("1_000"), Some(1000));
/// assert_eq!(parse_python_int("١٢"), Some(12)); // Arabic-Indic digits
/// assert_eq!(parse_python_int("1__0"), None);
/// assert_eq!(parse_python_int("0x10"), None);
/// assert_eq!(parse_python_int(""), None);
/// ```
#[must_use]
pub fn parse_python_int(text: &str) -> Option<i128> {
    let text = text.trim_matches(is_python_space);
    let (negative, digits) = match text.as_bytes().first()? {
        b'-' => (true, &text[1..]),
        b'+' => (false, &text[1..]),
        _ => (false, text),
    };
    let mut value: i128 = 0;
    let mut seen_digit = false;
    let mut after_underscore = false;
    for c in digits.chars() {
        if c == '_' {
            // Underscores may only separate two digits.
            if !seen_digit || after_underscore {
                return None;
            }
            after_underscore = true;
            continue;
        }
        let d = decimal_value(c)?;
        seen_digit = true;
        after_underscore = false;
        value = value.saturating_mul(10).saturating_add(i128::from(d));
    }
    if !seen_digit || after_underscore {
        return None;
    }
    Some(if negative { -value } else { value })
}

/// Python's `str.isspace()`: Unicode White_Space plus the four ASCII information separators.
fn is_python_space(c: char) -> bool {
    c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c)
}

/// The first code point of every run of Unicode decimal digits (general category Nd), as
/// CPython 3.13 (Unicode 15) knows them. Each run holds the digits 0 to 9 in order.
const DIGIT_ZEROS: [u32; 68] = [
    0x30, 0x660, 0x6F0, 0x7C0, 0x966, 0x9E6, 0xA66, 0xAE6, 0xB66, 0xBE6, 0xC66, 0xCE6, 0xD66,
    0xDE6, 0xE50, 0xED0, 0xF20, 0x1040, 0x1090, 0x17E0, 0x1810, 0x1946, 0x19D0, 0x1A80, 0x1A90,
    0x1B50, 0x1BB0, 0x1C40, 0x1C50, 0xA620, 0xA8D0, 0xA900, 0xA9D0, 0xA9F0, 0xAA50, 0xABF0, 0xFF10,
    0x104A0, 0x10D30, 0x11066, 0x110F0, 0x11136, 0x111D0, 0x112F0, 0x11450, 0x114D0, 0x11650,
    0x116C0, 0x11730, 0x118E0, 0x11950, 0x11C50, 0x11D50, 0x11DA0, 0x11F50, 0x16A60, 0x16AC0,
    0x16B50, 0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6, 0x1E140, 0x1E2F0, 0x1E4F0, 0x1E950,
    0x1FBF0,
];

fn decimal_value(c: char) -> Option<u8> {
    let cp = u32::from(c);
    if c.is_ascii_digit() {
        return Some((cp - 0x30) as u8);
    }
    // The table is sorted: find the last run starting at or before `cp`.
    let idx = DIGIT_ZEROS
        .partition_point(|&zero| zero <= cp)
        .checked_sub(1)?;
    let offset = cp - DIGIT_ZEROS[idx];
    (offset < 10).then_some(offset as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn python_int_table() {
        let cases: &[(&str, Option<i128>)] = &[
            ("1", Some(1)),
            (" 2 ", Some(2)),
            ("\t2\n", Some(2)),
            ("+2", Some(2)),
            ("-2", Some(-2)),
            ("02", Some(2)),
            ("1_0", Some(10)),
            ("٣", Some(3)),
            ("２", Some(2)),
            ("\u{1c}7\u{1f}", Some(7)),
            ("𝟗", Some(9)),
            ("", None),
            (" ", None),
            ("+", None),
            ("-", None),
            ("_1", None),
            ("1_", None),
            ("1__0", None),
            ("+_1", None),
            ("1.0", None),
            ("1e1", None),
            ("0x2", None),
            ("x", None),
            ("1 2", None),
            ("--1", None),
            ("Ⅻ", None),
            ("²", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_python_int(text), *want, "parse_python_int({text:?})");
        }
    }

    #[test]
    fn to_int_table() {
        let cases: &[(PageNumber<'_>, Option<i128>)] = &[
            (PageNumber::Int(5), Some(5)),
            (PageNumber::Int(-5), Some(-5)),
            (PageNumber::Str(" 7 "), Some(7)),
            (PageNumber::Str("x"), None),
            (PageNumber::Float(2.0), Some(2)),
            (PageNumber::Float(-3.0), Some(-3)),
            (PageNumber::Float(0.0), Some(0)),
            (PageNumber::Float(2.5), None),
            (PageNumber::Float(-0.5), None),
            (PageNumber::Float(f64::NAN), None),
            (PageNumber::Float(f64::INFINITY), None),
            (PageNumber::Float(f64::NEG_INFINITY), None),
            // Integral floats beyond i128 saturate, keeping their order.
            (PageNumber::Float(1e40), Some(i128::MAX)),
            (PageNumber::Missing, None),
        ];
        for (number, want) in cases {
            assert_eq!(number.to_int(), *want, "{number:?}");
        }
    }

    #[test]
    fn the_code_point_after_a_nine_is_no_digit() {
        // ':' follows '9' and U+066A (ARABIC PERCENT SIGN) follows U+0669 (ARABIC-INDIC NINE).
        for c in [':', '\u{66a}', '\u{ff1a}'] {
            assert_eq!(decimal_value(c), None, "{c:?}");
            assert_eq!(parse_python_int(&format!("1{c}")), None, "{c:?}");
        }
        assert_eq!(decimal_value('/'), None);
        assert_eq!(decimal_value('\u{65f}'), None);
    }

    proptest::proptest! {
        #[test]
        fn reads_back_integers_as_python_writes_them(
            n in proptest::prelude::any::<i64>(),
            grouped in proptest::prelude::any::<bool>(),
            plus in proptest::prelude::any::<bool>(),
            pad in "[ \t\n\u{a0}\u{3000}]{0,2}",
        ) {
            let digits = n.unsigned_abs().to_string();
            let digits = if grouped {
                // Python accepts `1_000_000`: an underscore between any two digits.
                let mut out = String::new();
                for (i, c) in digits.chars().enumerate() {
                    if i > 0 && (digits.len() - i) % 3 == 0 {
                        out.push('_');
                    }
                    out.push(c);
                }
                out
            } else {
                digits
            };
            let sign = if n < 0 { "-" } else if plus { "+" } else { "" };
            let text = format!("{pad}{sign}{digits}{pad}");
            proptest::prop_assert_eq!(parse_python_int(&text), Some(i128::from(n)), "{:?}", text);
        }
    }

    #[test]
    fn saturates_instead_of_overflowing() {
        let huge = "9".repeat(100);
        assert_eq!(parse_python_int(&huge), Some(i128::MAX));
        assert_eq!(parse_python_int(&format!("-{huge}")), Some(-i128::MAX));
    }

    #[test]
    fn every_table_run_is_ten_digits() {
        for zero in DIGIT_ZEROS {
            for d in 0..10u8 {
                let c = char::from_u32(zero + u32::from(d)).unwrap();
                assert_eq!(decimal_value(c), Some(d), "U+{:04X}", zero + u32::from(d));
            }
        }
    }
}

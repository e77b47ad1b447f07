//! The arithmetic Django's `Paginator` and `Page` share, independent of where objects live.
//!
//! `Paginator`, `AsyncPaginator` and `Page` all go through [`Layout`], so the synchronous and
//! asynchronous paths cannot disagree.

use crate::{Error, ErrorMessages, PageNumber, Result};

/// Count, page size and messages: everything needed to number pages.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    pub(crate) count: u64,
    pub(crate) per_page: u64,
    pub(crate) orphans: u64,
    pub(crate) allow_empty_first_page: bool,
    pub(crate) messages: ErrorMessages,
}

impl Layout {
    /// Django's `num_pages`: `ceil(max(1, count - orphans) / per_page)` with Python's true
    /// (float) division, or 0 for an empty list that may not have an empty first page.
    pub(crate) fn num_pages(&self) -> Result<u64> {
        if self.count == 0 && !self.allow_empty_first_page {
            return Ok(0);
        }
        if self.per_page == 0 {
            return Err(Error::ZeroPerPage);
        }
        let hits = self.count.saturating_sub(self.orphans).max(1);
        Ok(ceil_of_true_division(hits, self.per_page))
    }

    /// Django's `validate_number`.
    pub(crate) fn validate_number(&self, number: PageNumber<'_>) -> Result<u64> {
        let Some(number) = number.to_int() else {
            return Err(Error::PageNotAnInteger(self.messages.invalid_page.clone()));
        };
        if number < 1 {
            return Err(Error::EmptyPage(self.messages.min_page.clone()));
        }
        if number > i128::from(self.num_pages()?) {
            return Err(Error::EmptyPage(self.messages.no_results.clone()));
        }
        // 1 <= number <= num_pages <= u64::MAX
        Ok(number as u64)
    }

    /// Django's `get_page` fallback: the first page for garbage, the last page when out of
    /// range.
    pub(crate) fn fallback_number(&self, number: PageNumber<'_>) -> Result<u64> {
        let fallback = match self.validate_number(number) {
            Ok(n) => return Ok(n),
            Err(Error::PageNotAnInteger(_)) => 1,
            Err(Error::EmptyPage(_)) => self.num_pages()?,
            Err(other) => return Err(other),
        };
        // Django passes the fallback to `page()`, which validates it again: with no pages at
        // all (an empty list without an empty first page) even page 1 is `EmptyPage`.
        self.validate_number(PageNumber::Int(i128::from(fallback)))
    }

    /// The `[start, stop)` object indexes of a validated page number, clipped to the list as
    /// Python slicing clips them, with orphans folded into the last page.
    pub(crate) fn bounds(&self, number: u64) -> (u64, u64) {
        let bottom = (number - 1).saturating_mul(self.per_page);
        let mut top = bottom.saturating_add(self.per_page);
        if top.saturating_add(self.orphans) >= self.count {
            top = self.count;
        }
        let start = bottom.min(self.count);
        let stop = top.min(self.count).max(start);
        (start, stop)
    }

    /// Django's `get_elided_page_range`.
    pub(crate) fn elided(
        &self,
        number: PageNumber<'_>,
        on_each_side: u64,
        on_ends: u64,
    ) -> Result<Vec<PageLink>> {
        let number = i128::from(self.validate_number(number)?);
        let num_pages = i128::from(self.num_pages()?);
        let (side, ends) = (i128::from(on_each_side), i128::from(on_ends));
        let mut out = Vec::new();
        let push_range = |out: &mut Vec<PageLink>, from: i128, to_inclusive: i128| {
            let mut n = from.max(1);
            while n <= to_inclusive {
                out.push(PageLink::Number(n as u64));
                n += 1;
            }
        };
        if num_pages <= (side + ends) * 2 {
            push_range(&mut out, 1, num_pages);
            return Ok(out);
        }
        if number > (1 + side + ends) + 1 {
            push_range(&mut out, 1, ends);
            out.push(PageLink::Ellipsis);
            push_range(&mut out, number - side, number);
        } else {
            push_range(&mut out, 1, number);
        }
        if number < (num_pages - side - ends) - 1 {
            push_range(&mut out, number + 1, number + side);
            out.push(PageLink::Ellipsis);
            push_range(&mut out, num_pages - ends + 1, num_pages);
        } else {
            push_range(&mut out, number + 1, num_pages);
        }
        Ok(out)
    }
}

/// Django's ellipsis in elided page ranges: `"…"` (U+2026).
pub const ELLIPSIS: &str = "\u{2026}";

/// One entry of an elided page range: a page number or the [`ELLIPSIS`] between runs.
///
/// It displays and serializes as Django's list does, a number or `"…"`:
///
/// ```
/// use djrs_paginate::{PageLink, Paginator};
///
/// let paginator = Paginator::new(0..1000_u64, 10);
/// let links = paginator.get_elided_page_range(50, 1, 1).unwrap();
/// let shown: Vec<String> = links.iter().map(ToString::to_string).collect();
/// assert_eq!(shown, ["1", "…", "49", "50", "51", "…", "100"]);
/// assert_eq!(serde_json::to_string(&links[..2]).unwrap(), r#"[1,"…"]"#);
/// assert_eq!(links[0].number(), Some(1));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PageLink {
    /// A page number.
    Number(u64),
    /// A gap, shown as [`ELLIPSIS`].
    Ellipsis,
}

impl PageLink {
    /// The page number, or `None` for the ellipsis.
    #[must_use]
    pub fn number(self) -> Option<u64> {
        match self {
            PageLink::Number(n) => Some(n),
            PageLink::Ellipsis => None,
        }
    }
}

impl std::fmt::Display for PageLink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PageLink::Number(n) => write!(f, "{n}"),
            PageLink::Ellipsis => f.write_str(ELLIPSIS),
        }
    }
}

impl serde::Serialize for PageLink {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            PageLink::Number(n) => serializer.serialize_u64(*n),
            PageLink::Ellipsis => serializer.serialize_str(ELLIPSIS),
        }
    }
}

/// `math.ceil(a / b)` where `/` is Python's true division: the exact quotient rounded once to
/// the nearest `f64` (ties to even), then rounded up to an integer.
///
/// Dividing two `f64`s would round twice and give a different page count for some counts above
/// 2^53, so the nearest float is found exactly with integer arithmetic.
pub(crate) fn ceil_of_true_division(a: u64, b: u64) -> u64 {
    debug_assert!(b > 0);
    if a.is_multiple_of(b) {
        // An integer quotient: the float is the integer rounded to 53 bits.
        return ceil_f64((a / b) as f64);
    }
    let guess = a as f64 / b as f64;
    let candidates = [guess.next_down(), guess, guess.next_up()];
    // Measure every candidate's distance to a / b on one common scale, 2^-e_min, where all
    // products are exact integers: x = m·2^e with a 53-bit m, and x ≈ a / b keeps
    // m·b < 2^117 and a·2^-e_min < 2^118.
    let e_min = candidates
        .iter()
        .map(|x| decompose(*x).1)
        .min()
        .unwrap_or(0);
    let distance = |x: f64| -> u128 {
        let (m, e) = decompose(x);
        let xb = (u128::from(m) * u128::from(b)) << (e - e_min.min(0)) as u32;
        let a_scaled = u128::from(a) << (-e_min.min(0)) as u32;
        xb.abs_diff(a_scaled)
    };
    let nearest = candidates
        .into_iter()
        .min_by(|x, y| {
            distance(*x)
                .cmp(&distance(*y))
                // On a tie, the float with the even significand, as IEEE rounding picks.
                .then_with(|| (x.to_bits() & 1).cmp(&(y.to_bits() & 1)))
        })
        .unwrap_or(guess);
    ceil_f64(nearest)
}

/// Splits a positive finite `f64` into `(m, e)` with `x = m·2^e`.
fn decompose(x: f64) -> (u64, i32) {
    let bits = x.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1 << 52) - 1);
    if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1 << 52), exponent - 1075)
    }
}

/// `math.ceil` of a positive float as an integer, saturating at `u64::MAX`.
fn ceil_f64(x: f64) -> u64 {
    // `as` saturates for values beyond u64.
    x.ceil() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn true_division_matches_python() {
        // Values printed by CPython: math.ceil(a / b).
        let cases: &[(u64, u64, u64)] = &[
            (25, 10, 3),
            (1, 10, 1),
            (9_007_199_254_740_993, 1, 9_007_199_254_740_992),
            (9_007_199_254_740_995, 2, 4_503_599_627_370_498),
            (100_000_000_000_000_001, 10, 10_000_000_000_000_000),
            (100_000_000_000_000_001, 1, 100_000_000_000_000_000),
            (4_611_686_018_427_387_904, 3, 1_537_228_672_809_129_216),
            (1_000_000_000_000_003, 1000, 1_000_000_000_001),
            (u64::MAX, 1, 18_446_744_073_709_551_615),
        ];
        for &(a, b, want) in cases {
            assert_eq!(ceil_of_true_division(a, b), want, "ceil({a} / {b})");
        }
    }
}

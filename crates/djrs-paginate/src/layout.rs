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
    ///
    /// ```
    /// use djrs_paginate::PageLink;
    ///
    /// assert_eq!(PageLink::Number(3).number(), Some(3));
    /// assert_eq!(PageLink::Ellipsis.number(), None);
    /// ```
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

    fn layout(count: u64, per_page: u64, orphans: u64, allow_empty_first_page: bool) -> Layout {
        Layout {
            count,
            per_page,
            orphans,
            allow_empty_first_page,
            messages: ErrorMessages::default(),
        }
    }

    /// A result as text: the value, or the error variant and its message.
    fn shown<T: std::fmt::Debug>(result: Result<T>) -> String {
        match result {
            Ok(value) => format!("{value:?}"),
            Err(Error::PageNotAnInteger(message)) => format!("not an integer: {message}"),
            Err(Error::EmptyPage(message)) => format!("empty: {message}"),
            Err(other) => format!("{other:?}"),
        }
    }

    #[test]
    fn num_pages_table() {
        // (count, per_page, orphans, allow_empty_first_page, num_pages), as Django counts them.
        let cases: &[(u64, u64, u64, bool, &str)] = &[
            (0, 10, 0, true, "1"),
            (0, 10, 0, false, "0"),
            (5, 10, 0, false, "1"),
            (10, 10, 0, true, "1"),
            (11, 10, 0, true, "2"),
            (23, 10, 2, true, "3"),
            (23, 10, 3, true, "2"),
            (3, 10, 5, true, "1"),
            (5, 0, 0, true, "ZeroPerPage"),
            // No objects and no empty first page: zero pages, whatever the page size.
            (0, 0, 0, false, "0"),
        ];
        for &(count, per_page, orphans, allow_empty, want) in cases {
            let got = shown(layout(count, per_page, orphans, allow_empty).num_pages());
            assert_eq!(
                got, want,
                "{count} objects, {per_page} per page, {orphans} orphans"
            );
        }
    }

    #[test]
    fn validate_and_fall_back_table() {
        let three_pages = layout(30, 10, 0, true);
        let no_pages = layout(0, 10, 0, false);
        // (layout, number, validate_number, fallback_number)
        let cases: &[(&Layout, PageNumber<'_>, &str, &str)] = &[
            (&three_pages, PageNumber::Int(1), "1", "1"),
            (&three_pages, PageNumber::Int(2), "2", "2"),
            (&three_pages, PageNumber::Int(3), "3", "3"),
            (&three_pages, PageNumber::Str("3"), "3", "3"),
            (
                &three_pages,
                PageNumber::Int(4),
                "empty: That page contains no results",
                "3",
            ),
            (
                &three_pages,
                PageNumber::Int(0),
                "empty: That page number is less than 1",
                "3",
            ),
            (
                &three_pages,
                PageNumber::Int(-1),
                "empty: That page number is less than 1",
                "3",
            ),
            (
                &three_pages,
                PageNumber::Str("x"),
                "not an integer: That page number is not an integer",
                "1",
            ),
            (
                &three_pages,
                PageNumber::Missing,
                "not an integer: That page number is not an integer",
                "1",
            ),
            (
                &no_pages,
                PageNumber::Int(1),
                "empty: That page contains no results",
                // Django falls back to page num_pages = 0.
                "empty: That page number is less than 1",
            ),
            (
                &no_pages,
                PageNumber::Str("x"),
                "not an integer: That page number is not an integer",
                "empty: That page contains no results",
            ),
        ];
        for (layout, number, valid, fallback) in cases {
            assert_eq!(
                shown(layout.validate_number(*number)),
                *valid,
                "validate {number:?}"
            );
            assert_eq!(
                shown(layout.fallback_number(*number)),
                *fallback,
                "fallback {number:?}"
            );
        }
        let zero = layout(5, 0, 0, true);
        assert_eq!(
            shown(zero.validate_number(PageNumber::Int(1))),
            "ZeroPerPage"
        );
        assert_eq!(
            shown(zero.fallback_number(PageNumber::Int(9))),
            "ZeroPerPage"
        );
    }

    #[test]
    fn bounds_table() {
        // (count, per_page, orphans, page, [start, stop))
        type Case = (u64, u64, u64, u64, (u64, u64));
        let cases: &[Case] = &[
            (0, 10, 0, 1, (0, 0)),
            (25, 10, 0, 1, (0, 10)),
            (25, 10, 0, 2, (10, 20)),
            (25, 10, 0, 3, (20, 25)),
            (23, 10, 2, 2, (10, 20)),
            (23, 10, 2, 3, (20, 23)),
            // The orphans exactly fill what is left: they join the last page.
            (23, 10, 3, 2, (10, 23)),
            (23, 10, 4, 2, (10, 23)),
            (3, 10, 5, 1, (0, 3)),
            (u64::MAX, u64::MAX / 2, 0, 3, (u64::MAX - 1, u64::MAX)),
        ];
        for &(count, per_page, orphans, page, want) in cases {
            let got = layout(count, per_page, orphans, true).bounds(page);
            assert_eq!(
                got, want,
                "{count} objects, {per_page} per page, {orphans} orphans, page {page}"
            );
        }
    }

    #[test]
    fn elided_page_range_table() {
        // (num_pages, number, on_each_side, on_ends, links), printed by Django's
        // `get_elided_page_range` (one object per page).
        let cases: &[(u64, i128, u64, u64, &str)] = &[
            (10, 5, 3, 2, "1 2 3 4 5 6 7 8 9 10"),
            // Up to (on_each_side + on_ends) * 2 pages, all of them, even from the first or
            // the last page.
            (10, 1, 3, 2, "1 2 3 4 5 6 7 8 9 10"),
            (10, 10, 3, 2, "1 2 3 4 5 6 7 8 9 10"),
            (6, 1, 1, 2, "1 2 3 4 5 6"),
            (11, 1, 3, 2, "1 2 3 4 … 10 11"),
            (11, 7, 3, 2, "1 2 3 4 5 6 7 8 9 10 11"),
            (11, 8, 3, 2, "1 2 … 5 6 7 8 9 10 11"),
            (20, 7, 3, 2, "1 2 3 4 5 6 7 8 9 10 … 19 20"),
            (20, 8, 3, 2, "1 2 … 5 6 7 8 9 10 11 … 19 20"),
            (20, 13, 3, 2, "1 2 … 10 11 12 13 14 15 16 … 19 20"),
            (20, 14, 3, 2, "1 2 … 11 12 13 14 15 16 17 18 19 20"),
            (20, 20, 3, 2, "1 2 … 17 18 19 20"),
            (50, 25, 1, 1, "1 … 24 25 26 … 50"),
            (50, 4, 1, 1, "1 2 3 4 5 … 50"),
            (50, 5, 1, 1, "1 … 4 5 6 … 50"),
            (50, 45, 1, 1, "1 … 44 45 46 … 50"),
            (50, 46, 1, 1, "1 … 45 46 47 … 50"),
            (50, 47, 1, 1, "1 … 46 47 48 49 50"),
            (50, 48, 1, 1, "1 … 47 48 49 50"),
            (9, 5, 2, 0, "… 3 4 5 6 7 …"),
            (9, 5, 0, 2, "1 2 … 5 … 8 9"),
            (30, 15, 1, 3, "1 2 3 … 14 15 16 … 28 29 30"),
            (30, 15, 3, 1, "1 … 12 13 14 15 16 17 18 … 30"),
            (30, 6, 0, 0, "… 6 …"),
            (5, 1, 2, 1, "1 2 3 4 5"),
            (1, 1, 3, 2, "1"),
        ];
        for &(num_pages, number, side, ends, want) in cases {
            let links = layout(num_pages, 1, 0, true)
                .elided(PageNumber::Int(number), side, ends)
                .unwrap();
            let shown: Vec<String> = links.iter().map(ToString::to_string).collect();
            assert_eq!(
                shown.join(" "),
                want,
                "{num_pages} pages, page {number}, {side}/{ends}"
            );
        }
        let err = layout(20, 1, 0, true).elided(PageNumber::Int(21), 3, 2);
        assert_eq!(shown(err), "empty: That page contains no results");
    }

    #[test]
    fn page_links_know_their_number() {
        assert_eq!(PageLink::Number(7).number(), Some(7));
        assert_eq!(PageLink::Ellipsis.number(), None);
        assert_eq!(PageLink::Number(7).to_string(), "7");
        assert_eq!(PageLink::Ellipsis.to_string(), ELLIPSIS);
    }

    #[test]
    fn decompose_splits_normal_and_subnormal_floats() {
        assert_eq!(decompose(1.0), (1 << 52, -52));
        assert_eq!(decompose(2.5), (5 << 50, -51));
        assert_eq!(decompose(f64::MIN_POSITIVE / 4.0), (1 << 50, -1074));
    }

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
            (20, 10, 2),
            (30, 10, 3),
            (3, 2, 2),
            (7, 4, 2),
            // Just above an integer, closer to it than half a unit in the last place: the
            // quotient rounds down to the integer.
            (1_125_899_906_842_624_003, 1000, 1_125_899_906_842_624),
            (1_152_921_504_606_846_977, 1024, 1_125_899_906_842_624),
            // A quotient a quarter above 2^50 is exact: its ceiling is the next integer.
            (4_503_599_627_370_497, 4, 1_125_899_906_842_625),
            // Ties between two floats go to the even significand, before or after the guess.
            (9_007_199_254_740_997, 2, 4_503_599_627_370_498),
        ];
        for &(a, b, want) in cases {
            assert_eq!(ceil_of_true_division(a, b), want, "ceil({a} / {b})");
        }
    }
}

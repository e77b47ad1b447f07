//! Django's `Paginator` over anything that can count and slice itself.

use std::ops::{Range, RangeInclusive};
use std::sync::OnceLock;

use crate::layout::{Layout, PageLink};
use crate::{ErrorMessages, Page, PageNumber, Result};

/// Django's default `on_each_side` for elided page ranges.
pub const DEFAULT_ON_EACH_SIDE: u64 = 3;
/// Django's default `on_ends` for elided page ranges.
pub const DEFAULT_ON_ENDS: u64 = 2;

/// A list that can be counted and sliced without copying: what [`Paginator`] pages through.
///
/// Implemented for slices, `Vec`, references to either, and `Range<u64>`/`Range<usize>` (handy
/// for virtual lists). Implement it for your own collection to paginate it:
///
/// ```
/// use djrs_paginate::{ObjectList, Paginator};
///
/// /// Every even number below `limit`, computed on demand.
/// struct Evens { limit: u64 }
///
/// impl ObjectList for Evens {
///     type Slice<'a> = Vec<u64>;
///     fn count(&self) -> u64 { self.limit.div_ceil(2) }
///     fn slice(&self, start: u64, stop: u64) -> Vec<u64> {
///         (start..stop).map(|i| i * 2).collect()
///     }
/// }
///
/// let page = Paginator::new(Evens { limit: 100 }, 10).page(2)?;
/// assert_eq!(page.object_list()[0], 20);
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
pub trait ObjectList {
    /// What one page holds: usually a borrowed slice.
    type Slice<'a>
    where
        Self: 'a;

    /// The number of objects (Django's `count()`/`len()`).
    fn count(&self) -> u64;

    /// The objects in `[start, stop)`, with `start <= stop <= self.count()`.
    fn slice(&self, start: u64, stop: u64) -> Self::Slice<'_>;
}

impl<T> ObjectList for [T] {
    type Slice<'a>
        = &'a [T]
    where
        T: 'a;

    fn count(&self) -> u64 {
        self.len() as u64
    }

    fn slice(&self, start: u64, stop: u64) -> &[T] {
        // Both bounds are at most `len()`, which fits in usize.
        &self[start as usize..stop as usize]
    }
}

impl<T> ObjectList for Vec<T> {
    type Slice<'a>
        = &'a [T]
    where
        T: 'a;

    fn count(&self) -> u64 {
        self.len() as u64
    }

    fn slice(&self, start: u64, stop: u64) -> &[T] {
        self.as_slice().slice(start, stop)
    }
}

impl<L: ObjectList + ?Sized> ObjectList for &L {
    type Slice<'a>
        = L::Slice<'a>
    where
        Self: 'a;

    fn count(&self) -> u64 {
        (**self).count()
    }

    fn slice(&self, start: u64, stop: u64) -> Self::Slice<'_> {
        (**self).slice(start, stop)
    }
}

impl ObjectList for Range<u64> {
    type Slice<'a> = Range<u64>;

    fn count(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }

    fn slice(&self, start: u64, stop: u64) -> Range<u64> {
        self.start + start..self.start + stop
    }
}

impl ObjectList for Range<usize> {
    type Slice<'a> = Range<usize>;

    fn count(&self) -> u64 {
        self.end.saturating_sub(self.start) as u64
    }

    fn slice(&self, start: u64, stop: u64) -> Range<usize> {
        self.start + start as usize..self.start + stop as usize
    }
}

/// A deprecation or correctness warning Django would raise for a paginator's arguments.
///
/// Each is also logged as a `tracing` warning when the paginator is built.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Warning {
    /// Django's warning class, e.g. `RemovedInDjango2028Warning`.
    pub category: &'static str,
    /// Django's warning text.
    pub message: String,
}

pub(crate) fn orphans_warning(per_page: u64, orphans: u64) -> Option<Warning> {
    (orphans >= per_page).then(|| Warning {
        category: "RemovedInDjango2028Warning",
        message: "Support for the orphans argument being larger than or equal to the per_page \
                  argument is deprecated. This will raise a ValueError in Django 2028."
            .to_owned(),
    })
}

pub(crate) fn log_warning(warning: &Warning) {
    tracing::warn!(category = warning.category, "{}", warning.message);
}

/// Django's `Paginator`: splits an [`ObjectList`] into numbered pages.
///
/// ```
/// use djrs_paginate::Paginator;
///
/// let objects = ["john", "paul", "george", "ringo"];
/// let p = Paginator::new(&objects[..], 2);
/// assert_eq!(p.count(), 4);
/// assert_eq!(p.num_pages(), 2);
/// assert_eq!(p.page_range(), 1..=2);
///
/// let page1 = p.page(1)?;
/// assert_eq!(page1.object_list(), &&["john", "paul"][..]);
/// assert!(page1.has_next());
///
/// // `get_page` never fails on bad input: garbage gives page 1, too large gives the last.
/// assert_eq!(p.get_page("abc")?.number(), 1);
/// assert_eq!(p.get_page("99")?.number(), 2);
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
#[derive(Debug)]
#[must_use]
pub struct Paginator<L> {
    object_list: L,
    per_page: u64,
    orphans: u64,
    allow_empty_first_page: bool,
    messages: ErrorMessages,
    count: OnceLock<u64>,
}

impl<L: ObjectList> Paginator<L> {
    /// A paginator showing `per_page` objects a page, with no orphans and an allowed empty
    /// first page (Django's defaults).
    ///
    /// A `per_page` of 0 is accepted as Django accepts it; every page request then fails with
    /// [`Error::ZeroPerPage`](crate::Error::ZeroPerPage) where Django divides by zero.
    ///
    /// ```
    /// use djrs_paginate::{Error, Paginator};
    ///
    /// let paginator = Paginator::new(vec!["john", "paul", "george", "ringo"], 3);
    /// assert_eq!(paginator.num_pages(), 2);
    ///
    /// // `per_page` 0 is accepted, but no page can be built from it.
    /// assert!(matches!(Paginator::new(0..5_u64, 0).page(1), Err(Error::ZeroPerPage)));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    pub fn new(object_list: L, per_page: u64) -> Self {
        let paginator = Paginator {
            object_list,
            per_page,
            orphans: 0,
            allow_empty_first_page: true,
            messages: ErrorMessages::default(),
            count: OnceLock::new(),
        };
        paginator.warnings().iter().for_each(log_warning);
        paginator
    }

    /// Folds a last page of at most `orphans` objects into the page before it.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(0..23_u64, 10).orphans(3);
    /// assert_eq!(paginator.num_pages(), 2); // the last 3 objects join page 2
    /// assert_eq!(paginator.page(2)?.len(), 13);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    pub fn orphans(mut self, orphans: u64) -> Self {
        self.orphans = orphans;
        self.warnings().iter().for_each(log_warning);
        self
    }

    /// Whether an empty list still has one (empty) first page. Default `true`.
    ///
    /// ```
    /// use djrs_paginate::{Error, Paginator};
    ///
    /// let nothing: Vec<u32> = Vec::new();
    /// assert_eq!(Paginator::new(&nothing, 10).num_pages(), 1);
    ///
    /// let strict = Paginator::new(&nothing, 10).allow_empty_first_page(false);
    /// assert_eq!(strict.num_pages(), 0);
    /// assert!(matches!(strict.get_page(1), Err(Error::EmptyPage(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    pub fn allow_empty_first_page(mut self, allow: bool) -> Self {
        self.allow_empty_first_page = allow;
        self
    }

    /// Replaces the `InvalidPage` messages (Django's `error_messages`).
    ///
    /// ```
    /// use djrs_paginate::{ErrorMessages, Paginator};
    ///
    /// let messages = ErrorMessages::default().min_page("Pages start at 1");
    /// let paginator = Paginator::new(0..25_u64, 10).error_messages(messages);
    /// assert_eq!(paginator.page(0).unwrap_err().to_string(), "Pages start at 1");
    /// ```
    pub fn error_messages(mut self, messages: ErrorMessages) -> Self {
        self.messages = messages;
        self
    }

    /// Django's warnings for these arguments (orphans not below `per_page` is deprecated).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// assert!(Paginator::new(0..10_u64, 5).warnings().is_empty());
    /// let w = Paginator::new(0..10_u64, 5).orphans(5).warnings();
    /// assert_eq!(w[0].category, "RemovedInDjango2028Warning");
    /// ```
    #[must_use]
    pub fn warnings(&self) -> Vec<crate::Warning> {
        orphans_warning(self.per_page, self.orphans)
            .into_iter()
            .collect()
    }

    /// The list being paginated.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(vec!["a", "b", "c"], 2);
    /// assert_eq!(paginator.object_list(), &["a", "b", "c"]);
    /// ```
    #[must_use]
    pub fn object_list(&self) -> &L {
        &self.object_list
    }

    /// The page size.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// assert_eq!(Paginator::new(0..25_u64, 10).per_page(), 10);
    /// ```
    #[must_use]
    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    /// The total number of objects, counted once and cached.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(vec!["a", "b", "c"], 2);
    /// assert_eq!(paginator.count(), 3);
    /// ```
    #[must_use]
    pub fn count(&self) -> u64 {
        *self.count.get_or_init(|| self.object_list.count())
    }

    fn layout(&self) -> Layout {
        Layout {
            count: self.count(),
            per_page: self.per_page,
            orphans: self.orphans,
            allow_empty_first_page: self.allow_empty_first_page,
            messages: self.messages.clone(),
        }
    }

    /// The total number of pages; 0 when `per_page` is 0 (where Django divides by zero).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// assert_eq!(Paginator::new(0..25_u64, 10).num_pages(), 3);
    /// assert_eq!(Paginator::new(0..25_u64, 0).num_pages(), 0);
    /// ```
    #[must_use]
    pub fn num_pages(&self) -> u64 {
        self.layout().num_pages().unwrap_or(0)
    }

    /// The 1-based page numbers, Django's `page_range`.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.page_range(), 1..=3);
    /// let labels: Vec<String> = paginator.page_range().map(|n| format!("Page {n}")).collect();
    /// assert_eq!(labels, ["Page 1", "Page 2", "Page 3"]);
    /// ```
    #[must_use]
    pub fn page_range(&self) -> RangeInclusive<u64> {
        1..=self.num_pages()
    }

    /// Checks a page number as Django does and returns it as an integer.
    ///
    /// Accepts integers, raw query-string text (`" 2 "`, `"+2"`, `"1_0"`), integral floats
    /// and `None`; see [`PageNumber`].
    ///
    /// ```
    /// use djrs_paginate::{Error, Paginator};
    ///
    /// let p = Paginator::new(0..25_u64, 10);
    /// assert_eq!(p.validate_number(" 2 ")?, 2);
    /// assert!(matches!(p.validate_number("1.0"), Err(Error::PageNotAnInteger(_))));
    /// assert!(matches!(p.validate_number(0), Err(Error::EmptyPage(_))));
    /// assert!(matches!(p.validate_number("99999999999999999999999"), Err(Error::EmptyPage(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    ///
    /// # Errors
    /// `PageNotAnInteger` for a non-integer, `EmptyPage` when out of range, `ZeroPerPage`.
    pub fn validate_number<'n>(&self, number: impl Into<PageNumber<'n>>) -> Result<u64> {
        self.layout().validate_number(number.into())
    }

    /// The page with the given number, or an `InvalidPage` error.
    ///
    /// ```
    /// use djrs_paginate::{Error, Paginator};
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.page("3")?.object_list(), &(20..25));
    /// assert!(matches!(paginator.page(4), Err(Error::EmptyPage(_))));
    /// assert!(matches!(paginator.page("x"), Err(Error::PageNotAnInteger(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`validate_number`](Self::validate_number).
    pub fn page<'n>(&self, number: impl Into<PageNumber<'n>>) -> Result<Page<L::Slice<'_>>> {
        let layout = self.layout();
        let number = layout.validate_number(number.into())?;
        Ok(self.build(layout, number))
    }

    /// The page with the given number, falling back as Django does: page 1 when the number is
    /// not an integer, the last page when it is out of range.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.get_page("2")?.number(), 2);
    /// assert_eq!(paginator.get_page("x")?.number(), 1); // not an integer: the first page
    /// assert_eq!(paginator.get_page(99)?.number(), 3); // out of range: the last page
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    ///
    /// # Errors
    /// Only when there is no page at all: an empty list with `allow_empty_first_page(false)`
    /// (`EmptyPage`, as in Django), or `per_page` 0.
    pub fn get_page<'n>(&self, number: impl Into<PageNumber<'n>>) -> Result<Page<L::Slice<'_>>> {
        let layout = self.layout();
        let number = layout.fallback_number(number.into())?;
        Ok(self.build(layout, number))
    }

    fn build(&self, layout: Layout, number: u64) -> Page<L::Slice<'_>> {
        let (start, stop) = layout.bounds(number);
        Page::new(
            self.object_list.slice(start, stop),
            number,
            stop - start,
            layout,
        )
    }

    /// Django's `get_elided_page_range`: every page number for short ranges, otherwise the
    /// ends, the neighbourhood of `number` and [`PageLink::Ellipsis`] between them.
    ///
    /// Django's defaults are [`DEFAULT_ON_EACH_SIDE`] (3) and [`DEFAULT_ON_ENDS`] (2).
    ///
    /// ```
    /// use djrs_paginate::{Paginator, DEFAULT_ON_EACH_SIDE, DEFAULT_ON_ENDS};
    ///
    /// let p = Paginator::new(0..230_u64, 10);
    /// let links = p.get_elided_page_range(1, DEFAULT_ON_EACH_SIDE, DEFAULT_ON_ENDS)?;
    /// let shown: Vec<String> = links.iter().map(|l| l.to_string()).collect();
    /// assert_eq!(shown, ["1", "2", "3", "4", "…", "22", "23"]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    ///
    /// # Errors
    /// As [`validate_number`](Self::validate_number) for `number`.
    pub fn get_elided_page_range<'n>(
        &self,
        number: impl Into<PageNumber<'n>>,
        on_each_side: u64,
        on_ends: u64,
    ) -> Result<Vec<PageLink>> {
        self.layout().elided(number.into(), on_each_side, on_ends)
    }

    /// Every page in order (iterating a Django paginator).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let reprs: Vec<String> = Paginator::new(0..25_u64, 10).pages().map(|p| p.to_string()).collect();
    /// assert_eq!(reprs, ["<Page 1 of 3>", "<Page 2 of 3>", "<Page 3 of 3>"]);
    /// ```
    pub fn pages(&self) -> impl Iterator<Item = Page<L::Slice<'_>>> + '_ {
        let layout = self.layout();
        self.page_range()
            .map(move |number| self.build(layout.clone(), number))
    }
}

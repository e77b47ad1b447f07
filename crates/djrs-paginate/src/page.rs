//! One page of results: Django's `Page`.

use std::fmt;

use serde::ser::SerializeStruct;

use crate::layout::{Layout, PageLink};
use crate::{PageNumber, Result};

/// One page of a paginated list, with Django's `Page` methods.
///
/// `T` is the page's object list: a borrowed slice for [`Paginator`](crate::Paginator) over a
/// slice or `Vec`, a `Vec` of rows for [`AsyncPaginator`](crate::AsyncPaginator). A page keeps
/// the paginator's numbers (count, page count, page size) so it can answer every question on
/// its own, and it serializes with all of them for templates and JSON APIs.
///
/// ```
/// use djrs_paginate::Paginator;
///
/// let articles: Vec<u32> = (1..=25).collect();
/// let paginator = Paginator::new(&articles[..], 10);
/// let page = paginator.page(2)?;
/// assert_eq!(page.object_list(), &&articles[10..20]);
/// assert_eq!((page.start_index(), page.end_index()), (11, 20));
/// assert!(page.has_next() && page.has_previous());
/// assert_eq!(page.next_page_number()?, 3);
/// assert_eq!(page.to_string(), "<Page 2 of 3>");
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
#[derive(Clone)]
pub struct Page<T> {
    object_list: T,
    number: u64,
    len: u64,
    num_pages: u64,
    layout: Layout,
    asynchronous: bool,
}

impl<T> Page<T> {
    pub(crate) fn new(object_list: T, number: u64, len: u64, layout: Layout) -> Self {
        // A page exists only for a valid number, so the page count is known.
        let num_pages = layout.num_pages().unwrap_or(0);
        Page {
            object_list,
            number,
            len,
            num_pages,
            layout,
            asynchronous: false,
        }
    }

    /// Marks a page built by `AsyncPaginator`, which Django displays as `<Async Page N>`.
    pub(crate) fn asynchronous(mut self) -> Self {
        self.asynchronous = true;
        self
    }

    /// The 1-based page number.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let page = Paginator::new(0..25_u64, 10).get_page("2")?;
    /// assert_eq!(page.number(), 2);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn number(&self) -> u64 {
        self.number
    }

    /// The objects on this page.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let articles = ["a", "b", "c"];
    /// let paginator = Paginator::new(&articles[..], 2);
    /// let page = paginator.page(2)?;
    /// assert_eq!(page.object_list(), &&["c"][..]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn object_list(&self) -> &T {
        &self.object_list
    }

    /// Takes the objects out of the page.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let titles: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
    /// let paginator = Paginator::new(&titles, 2);
    /// let rows: &[String] = paginator.page(1)?.into_object_list();
    /// assert_eq!(rows, ["a", "b"]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn into_object_list(self) -> T {
        self.object_list
    }

    /// Replaces the objects, keeping the numbers (e.g. to turn rows into view models).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let page = Paginator::new(0..25_u64, 10).page(3)?;
    /// let labels = page.map(|objects| objects.map(|i| format!("#{i}")).collect::<Vec<_>>());
    /// assert_eq!(labels.object_list(), &["#20", "#21", "#22", "#23", "#24"]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Page<U> {
        Page {
            object_list: f(self.object_list),
            number: self.number,
            len: self.len,
            num_pages: self.num_pages,
            layout: self.layout,
            asynchronous: self.asynchronous,
        }
    }

    /// How many objects this page holds (Python's `len(page)`).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let page = Paginator::new(0..25_u64, 10).page(3)?;
    /// assert_eq!(page.len(), 5);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn len(&self) -> u64 {
        self.len
    }

    /// True when the page holds no object (only an allowed empty first page).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let nothing: Vec<&str> = Vec::new();
    /// let paginator = Paginator::new(nothing, 10);
    /// let page = paginator.page(1)?; // an empty list still has page 1
    /// assert!(page.is_empty());
    /// assert_eq!(page.len(), 0);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// True if there is a page after this one.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert!(paginator.page(2)?.has_next());
    /// assert!(!paginator.page(3)?.has_next());
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn has_next(&self) -> bool {
        self.number < self.num_pages
    }

    /// True if there is a page before this one.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert!(paginator.page(2)?.has_previous());
    /// assert!(!paginator.page(1)?.has_previous());
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn has_previous(&self) -> bool {
        self.number > 1
    }

    /// True if there is a page before or after this one.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// assert!(Paginator::new(0..25_u64, 10).page(1)?.has_other_pages());
    /// assert!(!Paginator::new(0..5_u64, 10).page(1)?.has_other_pages());
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn has_other_pages(&self) -> bool {
        self.has_previous() || self.has_next()
    }

    /// The next page number, or Django's `EmptyPage` when this is the last page.
    ///
    /// ```
    /// use djrs_paginate::{Error, Paginator};
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.page(2)?.next_page_number()?, 3);
    /// let last = paginator.page(3)?;
    /// assert!(matches!(last.next_page_number(), Err(Error::EmptyPage(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EmptyPage`](crate::Error::EmptyPage) when there is no next page.
    pub fn next_page_number(&self) -> Result<u64> {
        self.layout
            .validate_number(PageNumber::Int(i128::from(self.number) + 1))
    }

    /// The previous page number, or Django's `EmptyPage` on the first page.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.page(2)?.previous_page_number()?, 1);
    /// let first = paginator.page(1)?;
    /// assert_eq!(first.previous_page_number().unwrap_err().to_string(), "That page number is less than 1");
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    ///
    /// # Errors
    /// [`Error::EmptyPage`](crate::Error::EmptyPage) when there is no previous page.
    pub fn previous_page_number(&self) -> Result<u64> {
        self.layout
            .validate_number(PageNumber::Int(i128::from(self.number) - 1))
    }

    /// The 1-based index of the first object on this page, 0 for an empty list.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// assert_eq!(Paginator::new(0..25_u64, 10).page(3)?.start_index(), 21);
    /// assert_eq!(Paginator::new(0..0_u64, 10).page(1)?.start_index(), 0);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn start_index(&self) -> u64 {
        if self.layout.count == 0 {
            return 0;
        }
        self.layout
            .per_page
            .saturating_mul(self.number - 1)
            .saturating_add(1)
    }

    /// The 1-based index of the last object on this page.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.page(2)?.end_index(), 20);
    /// assert_eq!(paginator.page(3)?.end_index(), 25);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn end_index(&self) -> u64 {
        if self.number == self.num_pages {
            return self.layout.count;
        }
        self.number.saturating_mul(self.layout.per_page)
    }

    /// The total number of objects across all pages (the paginator's `count`).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let page = Paginator::new(0..25_u64, 10).page(3)?;
    /// assert_eq!(page.count(), 25);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn count(&self) -> u64 {
        self.layout.count
    }

    /// The total number of pages (the paginator's `num_pages`).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let page = Paginator::new(0..25_u64, 10).page(1)?;
    /// assert_eq!(page.num_pages(), 3);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn num_pages(&self) -> u64 {
        self.num_pages
    }

    /// The page size (the paginator's `per_page`).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let page = Paginator::new(0..25_u64, 10).page(3)?;
    /// assert_eq!(page.per_page(), 10);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn per_page(&self) -> u64 {
        self.layout.per_page
    }

    /// The paginator's elided page range around this page (Django's
    /// `paginator.get_elided_page_range(page.number, on_each_side=…, on_ends=…)`).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    ///
    /// let page = Paginator::new(0..500_u64, 10).page(25)?;
    /// let links: Vec<String> = page.elided_page_range(2, 1).iter().map(|l| l.to_string()).collect();
    /// assert_eq!(links, ["1", "…", "23", "24", "25", "26", "27", "…", "50"]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn elided_page_range(&self, on_each_side: u64, on_ends: u64) -> Vec<PageLink> {
        self.layout
            .elided(
                PageNumber::Int(i128::from(self.number)),
                on_each_side,
                on_ends,
            )
            // The page's own number is valid by construction.
            .unwrap_or_default()
    }
}

impl<T> fmt::Display for Page<T> {
    /// Django's `repr(page)`: `<Page 2 of 3>`, or `<Async Page 2>` for a page of an
    /// `AsyncPaginator`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.asynchronous {
            write!(f, "<Async Page {}>", self.number)
        } else {
            write!(f, "<Page {} of {}>", self.number, self.num_pages)
        }
    }
}

impl<T> fmt::Debug for Page<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Page")
            .field("number", &self.number)
            .field("num_pages", &self.num_pages)
            .field("len", &self.len)
            .field("count", &self.layout.count)
            .finish_non_exhaustive()
    }
}

/// Serializes the objects with every number a template needs:
///
/// ```
/// use djrs_paginate::Paginator;
///
/// let paginator = Paginator::new(vec!["a", "b", "c"], 2);
/// let page = paginator.page(2)?;
/// let json = serde_json::to_value(&page).unwrap();
/// assert_eq!(json["object_list"], serde_json::json!(["c"]));
/// assert_eq!(json["number"], 2);
/// assert_eq!(json["previous_page_number"], 1);
/// assert_eq!(json["next_page_number"], serde_json::Value::Null);
/// assert_eq!(json["elided_page_range"], serde_json::json!([1, 2]));
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
impl<T: serde::Serialize> serde::Serialize for Page<T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("Page", 14)?;
        s.serialize_field("object_list", &self.object_list)?;
        s.serialize_field("number", &self.number)?;
        s.serialize_field("len", &self.len)?;
        s.serialize_field("count", &self.layout.count)?;
        s.serialize_field("num_pages", &self.num_pages)?;
        s.serialize_field("per_page", &self.layout.per_page)?;
        s.serialize_field("has_next", &self.has_next())?;
        s.serialize_field("has_previous", &self.has_previous())?;
        s.serialize_field("has_other_pages", &self.has_other_pages())?;
        s.serialize_field("next_page_number", &self.next_page_number().ok())?;
        s.serialize_field("previous_page_number", &self.previous_page_number().ok())?;
        s.serialize_field("start_index", &self.start_index())?;
        s.serialize_field("end_index", &self.end_index())?;
        s.serialize_field("elided_page_range", &self.elided_page_range(3, 2))?;
        s.end()
    }
}

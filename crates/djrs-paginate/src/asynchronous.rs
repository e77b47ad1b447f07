//! Django's `AsyncPaginator`: the same numbers as [`Paginator`](crate::Paginator), over a
//! source that counts and fetches asynchronously (a database query).

use std::future::Future;
use std::ops::{Range, RangeInclusive};
use std::sync::OnceLock;

use crate::layout::{Layout, PageLink};
use crate::paginator::{log_warning, orphans_warning};
use crate::{ErrorMessages, Page, PageNumber, Result, Warning};

/// A page fetched by an [`AsyncPaginator`]: Django's `AsyncPage`, holding its rows.
///
/// Django's `AsyncPage` must be awaited (`aget_object_list()`) before its objects are read; a
/// djrs page is built after its rows arrive, so every method is synchronous.
pub type AsyncPage<T> = Page<Vec<T>>;

/// A source of objects that is counted and sliced asynchronously, what [`AsyncPaginator`]
/// pages through.
///
/// Implemented for `Vec<T>` and `Range<u64>`, and, behind the `postgres`, `mysql` and `sqlite`
/// features, for [`SelectSource`](crate::SelectSource) (a sea-query `SelectStatement` run
/// through sqlx).
///
/// ```
/// use djrs_paginate::{AsyncObjectList, AsyncPaginator, Result};
///
/// struct Squares;
///
/// impl AsyncObjectList for Squares {
///     type Item = u64;
///     async fn count(&self) -> Result<u64> { Ok(1_000) }
///     async fn fetch(&self, offset: u64, limit: u64) -> Result<Vec<u64>> {
///         Ok((offset..offset + limit).map(|i| i * i).collect())
///     }
/// }
///
/// # tokio_test::block_on(async {
/// let page = AsyncPaginator::new(Squares, 10).apage(3).await?;
/// assert_eq!(page.object_list()[0], 400);
/// # Ok::<(), djrs_paginate::Error>(())
/// # }).unwrap();
/// ```
pub trait AsyncObjectList: Send + Sync {
    /// One object.
    type Item: Send;

    /// The number of objects.
    fn count(&self) -> impl Future<Output = Result<u64>> + Send;

    /// At most `limit` objects starting at `offset`, in the list's order.
    fn fetch(
        &self,
        offset: u64,
        limit: u64,
    ) -> impl Future<Output = Result<Vec<Self::Item>>> + Send;

    /// Whether the order of the objects is stable. `Some(false)` makes the paginator log
    /// Django's `UnorderedObjectListWarning`. The default, `None`, means "not known".
    fn is_ordered(&self) -> Option<bool> {
        None
    }

    /// A short description of the source for warnings (Django prints the queryset's repr).
    fn describe(&self) -> String {
        std::any::type_name::<Self>().to_owned()
    }
}

impl<T: Clone + Send + Sync> AsyncObjectList for Vec<T> {
    type Item = T;

    async fn count(&self) -> Result<u64> {
        Ok(self.len() as u64)
    }

    async fn fetch(&self, offset: u64, limit: u64) -> Result<Vec<T>> {
        let start = offset.min(self.len() as u64) as usize;
        let stop = offset.saturating_add(limit).min(self.len() as u64) as usize;
        Ok(self[start..stop].to_vec())
    }

    fn is_ordered(&self) -> Option<bool> {
        Some(true)
    }
}

impl AsyncObjectList for Range<u64> {
    type Item = u64;

    async fn count(&self) -> Result<u64> {
        Ok(self.end.saturating_sub(self.start))
    }

    async fn fetch(&self, offset: u64, limit: u64) -> Result<Vec<u64>> {
        let start = self.start.saturating_add(offset).min(self.end);
        let stop = start.saturating_add(limit).min(self.end);
        Ok((start..stop).collect())
    }

    fn is_ordered(&self) -> Option<bool> {
        Some(true)
    }
}

/// Django's `AsyncPaginator`: one `COUNT` per paginator (cached), one `LIMIT`/`OFFSET` fetch
/// per page.
///
/// ```
/// use djrs_paginate::AsyncPaginator;
///
/// # tokio_test::block_on(async {
/// let paginator = AsyncPaginator::new((1..=95_u64).collect::<Vec<_>>(), 10).orphans(5);
/// assert_eq!(paginator.anum_pages().await?, 9);
/// let last = paginator.aget_page("last").await?; // not an integer: page 1, as Django
/// assert_eq!(last.number(), 1);
/// let last = paginator.aget_page(50).await?; // out of range: the last page
/// assert_eq!((last.number(), last.len()), (9, 15));
/// # Ok::<(), djrs_paginate::Error>(())
/// # }).unwrap();
/// ```
#[derive(Debug)]
#[must_use]
pub struct AsyncPaginator<S> {
    source: S,
    per_page: u64,
    orphans: u64,
    allow_empty_first_page: bool,
    messages: ErrorMessages,
    count: OnceLock<u64>,
}

impl<S: AsyncObjectList> AsyncPaginator<S> {
    /// A paginator over `source` showing `per_page` objects a page.
    ///
    /// Logs Django's `UnorderedObjectListWarning` when the source says it is unordered.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// let articles: Vec<String> = (1..=95).map(|i| format!("Article {i}")).collect();
    /// let paginator = AsyncPaginator::new(articles, 10);
    /// assert_eq!(paginator.anum_pages().await?, 10);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn new(source: S, per_page: u64) -> Self {
        let paginator = AsyncPaginator {
            source,
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
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..23_u64, 10).orphans(3);
    /// assert_eq!(paginator.anum_pages().await?, 2);
    /// assert_eq!(paginator.apage(2).await?.len(), 13);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn orphans(mut self, orphans: u64) -> Self {
        self.orphans = orphans;
        orphans_warning(self.per_page, orphans)
            .iter()
            .for_each(log_warning);
        self
    }

    /// Whether an empty list still has one (empty) first page. Default `true`.
    ///
    /// ```
    /// use djrs_paginate::{AsyncPaginator, Error};
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(Vec::<u32>::new(), 10).allow_empty_first_page(false);
    /// assert_eq!(paginator.anum_pages().await?, 0);
    /// assert!(matches!(paginator.aget_page(1).await, Err(Error::EmptyPage(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn allow_empty_first_page(mut self, allow: bool) -> Self {
        self.allow_empty_first_page = allow;
        self
    }

    /// Replaces the `InvalidPage` messages (Django's `error_messages`).
    ///
    /// ```
    /// use djrs_paginate::{AsyncPaginator, ErrorMessages};
    ///
    /// # tokio_test::block_on(async {
    /// let messages = ErrorMessages::default().no_results("Nothing here");
    /// let paginator = AsyncPaginator::new(0..25_u64, 10).error_messages(messages);
    /// assert_eq!(paginator.apage(4).await.unwrap_err().to_string(), "Nothing here");
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn error_messages(mut self, messages: ErrorMessages) -> Self {
        self.messages = messages;
        self
    }

    /// Uses a count already known (from a cache, an estimate or an earlier query) instead of
    /// asking the source.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// // The count is taken as given: the source is not asked.
    /// let paginator = AsyncPaginator::new(0..1_000_u64, 10).with_count(95);
    /// assert_eq!(paginator.acount().await?, 95);
    /// assert_eq!(paginator.anum_pages().await?, 10);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn with_count(self, count: u64) -> Self {
        // A fresh paginator has an empty cell, so this always stores the count.
        let _ = self.count.set(count);
        self
    }

    /// Django's warnings for this paginator: orphans not below `per_page`, and an unordered
    /// source (`UnorderedObjectListWarning`).
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// assert!(AsyncPaginator::new(0..10_u64, 5).warnings().is_empty());
    /// let warnings = AsyncPaginator::new(0..10_u64, 5).orphans(5).warnings();
    /// assert_eq!(warnings[0].category, "RemovedInDjango2028Warning");
    /// ```
    #[must_use]
    pub fn warnings(&self) -> Vec<Warning> {
        let mut warnings: Vec<Warning> = orphans_warning(self.per_page, self.orphans)
            .into_iter()
            .collect();
        if self.source.is_ordered() == Some(false) {
            warnings.push(Warning {
                category: "UnorderedObjectListWarning",
                message: format!(
                    "Pagination may yield inconsistent results with an unordered object_list: {}.",
                    self.source.describe()
                ),
            });
        }
        warnings
    }

    /// The source being paginated.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// let paginator = AsyncPaginator::new(vec!["a", "b", "c"], 2);
    /// assert_eq!(paginator.source(), &["a", "b", "c"]);
    /// ```
    #[must_use]
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The page size.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// assert_eq!(AsyncPaginator::new(0..25_u64, 10).per_page(), 10);
    /// ```
    #[must_use]
    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    /// The total number of objects, asked of the source once and cached.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(vec!["a", "b", "c"], 2);
    /// assert_eq!(paginator.acount().await?, 3);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// [`Error::Source`](crate::Error::Source) when the source fails.
    pub async fn acount(&self) -> Result<u64> {
        if let Some(count) = self.count.get() {
            return Ok(*count);
        }
        let count = self.source.count().await?;
        // Concurrent callers may both count; the first stored value wins for everyone.
        Ok(*self.count.get_or_init(|| count))
    }

    async fn layout(&self) -> Result<Layout> {
        Ok(Layout {
            count: self.acount().await?,
            per_page: self.per_page,
            orphans: self.orphans,
            allow_empty_first_page: self.allow_empty_first_page,
            messages: self.messages.clone(),
        })
    }

    /// The total number of pages; 0 when `per_page` is 0.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// assert_eq!(AsyncPaginator::new(0..25_u64, 10).anum_pages().await?, 3);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// When counting fails.
    pub async fn anum_pages(&self) -> Result<u64> {
        Ok(self.layout().await?.num_pages().unwrap_or(0))
    }

    /// The 1-based page numbers.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.apage_range().await?, 1..=3);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// When counting fails.
    pub async fn apage_range(&self) -> Result<RangeInclusive<u64>> {
        Ok(1..=self.anum_pages().await?)
    }

    /// Checks a page number as Django does; see [`Paginator::validate_number`](crate::Paginator::validate_number).
    ///
    /// ```
    /// use djrs_paginate::{AsyncPaginator, Error};
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.avalidate_number(" 2 ").await?, 2);
    /// assert!(matches!(paginator.avalidate_number("x").await, Err(Error::PageNotAnInteger(_))));
    /// assert!(matches!(paginator.avalidate_number(4).await, Err(Error::EmptyPage(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// `PageNotAnInteger`, `EmptyPage`, `ZeroPerPage`, or a source error.
    pub async fn avalidate_number<'n>(&self, number: impl Into<PageNumber<'n>>) -> Result<u64> {
        let number = number.into();
        // A non-integer fails before anything is counted, as in Django.
        if number.to_int().is_none() {
            return Err(crate::Error::PageNotAnInteger(
                self.messages.invalid_page.clone(),
            ));
        }
        self.layout().await?.validate_number(number)
    }

    /// The page with the given number, its rows fetched.
    ///
    /// ```
    /// use djrs_paginate::{AsyncPaginator, Error};
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..25_u64, 10);
    /// let page = paginator.apage("3").await?;
    /// assert_eq!(page.object_list(), &[20, 21, 22, 23, 24]);
    /// assert_eq!(page.to_string(), "<Async Page 3>");
    /// assert!(matches!(paginator.apage(4).await, Err(Error::EmptyPage(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`avalidate_number`](Self::avalidate_number), or a source error.
    pub async fn apage<'n>(&self, number: impl Into<PageNumber<'n>>) -> Result<AsyncPage<S::Item>> {
        let number = number.into();
        let layout = self.layout().await?;
        let number = layout.validate_number(number)?;
        self.fetch(layout, number).await
    }

    /// The page with the given number, falling back to page 1 for garbage and to the last
    /// page when out of range, as Django's `aget_page`.
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..25_u64, 10);
    /// assert_eq!(paginator.aget_page("2").await?.number(), 2);
    /// assert_eq!(paginator.aget_page("x").await?.number(), 1); // not an integer: the first page
    /// assert_eq!(paginator.aget_page(99).await?.number(), 3); // out of range: the last page
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// When there is no page at all (see [`Paginator::get_page`](crate::Paginator::get_page)),
    /// or a source error.
    pub async fn aget_page<'n>(
        &self,
        number: impl Into<PageNumber<'n>>,
    ) -> Result<AsyncPage<S::Item>> {
        let number = number.into();
        let layout = self.layout().await?;
        let number = layout.fallback_number(number)?;
        self.fetch(layout, number).await
    }

    async fn fetch(&self, layout: Layout, number: u64) -> Result<AsyncPage<S::Item>> {
        let (start, stop) = layout.bounds(number);
        let rows = if stop > start {
            self.source.fetch(start, stop - start).await?
        } else {
            Vec::new()
        };
        let len = rows.len() as u64;
        Ok(Page::new(rows, number, len, layout).asynchronous())
    }

    /// Django's `aget_elided_page_range`; see
    /// [`Paginator::get_elided_page_range`](crate::Paginator::get_elided_page_range).
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..230_u64, 10); // 23 pages
    /// let links = paginator.aget_elided_page_range(12, 3, 2).await?;
    /// let shown: Vec<String> = links.iter().map(ToString::to_string).collect();
    /// assert_eq!(shown, ["1", "2", "…", "9", "10", "11", "12", "13", "14", "15", "…", "22", "23"]);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// As [`avalidate_number`](Self::avalidate_number).
    pub async fn aget_elided_page_range<'n>(
        &self,
        number: impl Into<PageNumber<'n>>,
        on_each_side: u64,
        on_ends: u64,
    ) -> Result<Vec<PageLink>> {
        let number = number.into();
        self.layout().await?.elided(number, on_each_side, on_ends)
    }
}

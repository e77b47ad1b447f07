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
    pub fn orphans(mut self, orphans: u64) -> Self {
        self.orphans = orphans;
        orphans_warning(self.per_page, orphans)
            .iter()
            .for_each(log_warning);
        self
    }

    /// Whether an empty list still has one (empty) first page. Default `true`.
    pub fn allow_empty_first_page(mut self, allow: bool) -> Self {
        self.allow_empty_first_page = allow;
        self
    }

    /// Replaces the `InvalidPage` messages (Django's `error_messages`).
    pub fn error_messages(mut self, messages: ErrorMessages) -> Self {
        self.messages = messages;
        self
    }

    /// Uses a count already known (from a cache, an estimate or an earlier query) instead of
    /// asking the source.
    pub fn with_count(self, count: u64) -> Self {
        // A fresh paginator has an empty cell, so this always stores the count.
        let _ = self.count.set(count);
        self
    }

    /// Django's warnings for this paginator: orphans not below `per_page`, and an unordered
    /// source (`UnorderedObjectListWarning`).
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
    #[must_use]
    pub fn source(&self) -> &S {
        &self.source
    }

    /// The page size.
    #[must_use]
    pub fn per_page(&self) -> u64 {
        self.per_page
    }

    /// The total number of objects, asked of the source once and cached.
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
    /// # Errors
    /// When counting fails.
    pub async fn anum_pages(&self) -> Result<u64> {
        Ok(self.layout().await?.num_pages().unwrap_or(0))
    }

    /// The 1-based page numbers.
    ///
    /// # Errors
    /// When counting fails.
    pub async fn apage_range(&self) -> Result<RangeInclusive<u64>> {
        Ok(1..=self.anum_pages().await?)
    }

    /// Checks a page number as Django does; see [`Paginator::validate_number`](crate::Paginator::validate_number).
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

//! axum integration: the `?page=` and `?cursor=` extractors and a rejection that maps
//! `InvalidPage` to 404.

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::{
    AsyncObjectList, AsyncPage, AsyncPaginator, Error, ObjectList, Page, PageNumber, Paginator,
};

/// The last value of a query-string parameter, percent-decoded (`request.GET.get(name)`).
fn query_value(query: Option<&str>, name: &str) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .filter(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
        .last()
}

/// The raw `?page=` value of a request. Never rejects: the handler chooses between Django's
/// `get_page` (fall back to a valid page) and `page` (a bad number is a 404).
///
/// ```
/// use axum::{Router, routing::get};
/// use djrs_paginate::axum::{PageParam, PaginationRejection};
/// use djrs_paginate::Paginator;
///
/// async fn forgiving(page: PageParam) -> String {
///     let articles: Vec<u32> = (1..=95).collect();
///     let paginator = Paginator::new(&articles[..], 10);
///     let page = page.get_page(&paginator).unwrap();
///     format!("page {} of {}", page.number(), page.num_pages())
/// }
///
/// async fn strict(page: PageParam) -> Result<String, PaginationRejection> {
///     let articles: Vec<u32> = (1..=95).collect();
///     let paginator = Paginator::new(&articles[..], 10);
///     let page = page.page(&paginator)?; // 404 for ?page=x or ?page=99
///     Ok(format!("page {}", page.number()))
/// }
///
/// let app: Router = Router::new().route("/a", get(forgiving)).route("/b", get(strict));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageParam {
    raw: Option<String>,
}

impl PageParam {
    /// Reads parameter `name` from a raw query string (`a=1&page=2`).
    ///
    /// ```
    /// use djrs_paginate::axum::PageParam;
    ///
    /// assert_eq!(PageParam::from_query(Some("q=x&p=%202"), "p").raw(), Some(" 2"));
    /// assert_eq!(PageParam::from_query(None, "page").raw(), None);
    /// ```
    #[must_use]
    pub fn from_query(query: Option<&str>, name: &str) -> Self {
        PageParam {
            raw: query_value(query, name),
        }
    }

    /// The raw value, percent-decoded, or `None` when the parameter is absent.
    ///
    /// ```
    /// use djrs_paginate::axum::PageParam;
    ///
    /// let param = PageParam::from_query(Some("q=rust&page=%202"), "page");
    /// assert_eq!(param.raw(), Some(" 2"));
    /// assert_eq!(PageParam::default().raw(), None);
    /// ```
    #[must_use]
    pub fn raw(&self) -> Option<&str> {
        self.raw.as_deref()
    }

    /// The value as a [`PageNumber`]; absent means page 1 (Django's `request.GET.get("page", 1)`
    /// idiom, so `/articles` is the first page).
    ///
    /// ```
    /// use djrs_paginate::PageNumber;
    /// use djrs_paginate::axum::PageParam;
    ///
    /// let param = PageParam::from_query(Some("page=3"), "page");
    /// assert_eq!(param.number(), PageNumber::Str("3"));
    /// assert_eq!(PageParam::default().number(), PageNumber::Int(1)); // no `?page=`: page 1
    /// ```
    #[must_use]
    pub fn number(&self) -> PageNumber<'_> {
        self.raw
            .as_deref()
            .map_or(PageNumber::Int(1), PageNumber::Str)
    }

    /// Django's `get_page`: a bad number falls back to page 1 or the last page.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    /// use djrs_paginate::axum::PageParam;
    ///
    /// let paginator = Paginator::new(0..95_u64, 10);
    /// let param = PageParam::from_query(Some("page=99"), "page");
    /// assert_eq!(param.get_page(&paginator)?.number(), 10); // out of range: the last page
    /// # Ok::<(), djrs_paginate::axum::PaginationRejection>(())
    /// ```
    ///
    /// # Errors
    /// Only when the list has no page at all (see [`Paginator::get_page`]).
    pub fn get_page<'p, L: ObjectList>(
        &self,
        paginator: &'p Paginator<L>,
    ) -> Result<Page<L::Slice<'p>>, PaginationRejection> {
        paginator
            .get_page(self.number())
            .map_err(|e| PaginationRejection::from(e).for_page(self.raw()))
    }

    /// Django's list views (`MultipleObjectMixin.paginate_queryset`): an absent or empty
    /// value is page 1, `last` is the last page, anything else must be an integer and a valid
    /// page, or the request is a 404 with Django's text.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use djrs_paginate::Paginator;
    /// use djrs_paginate::axum::PageParam;
    ///
    /// let paginator = Paginator::new(0..95_u64, 10);
    /// let last = PageParam::from_query(Some("page=last"), "page");
    /// assert_eq!(last.page(&paginator)?.number(), 10);
    ///
    /// let garbage = PageParam::from_query(Some("page=x"), "page");
    /// assert_eq!(garbage.page(&paginator).unwrap_err().status(), StatusCode::NOT_FOUND);
    /// # Ok::<(), djrs_paginate::axum::PaginationRejection>(())
    /// ```
    ///
    /// # Errors
    /// 404 for an invalid page number.
    pub fn page<'p, L: ObjectList>(
        &self,
        paginator: &'p Paginator<L>,
    ) -> Result<Page<L::Slice<'p>>, PaginationRejection> {
        let number = self.list_view_number(|| paginator.num_pages())?;
        paginator
            .page(number)
            .map_err(|e| PaginationRejection::from(e).for_page(Some(&number.to_string())))
    }

    /// The page number a Django list view would ask for; `num_pages` is called only for
    /// `last`.
    fn list_view_number(
        &self,
        num_pages: impl FnOnce() -> u64,
    ) -> Result<i128, PaginationRejection> {
        let Some(raw) = self.raw.as_deref().filter(|raw| !raw.is_empty()) else {
            return Ok(1);
        };
        match crate::parse_python_int(raw) {
            Some(number) => Ok(number),
            None if raw == "last" => Ok(i128::from(num_pages())),
            None => Err(PaginationRejection::not_last()),
        }
    }

    /// `aget_page` on an [`AsyncPaginator`].
    ///
    /// ```
    /// use djrs_paginate::AsyncPaginator;
    /// use djrs_paginate::axum::PageParam;
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..95_u64, 10);
    /// let param = PageParam::from_query(Some("page=x"), "page");
    /// assert_eq!(param.aget_page(&paginator).await?.number(), 1); // not an integer: page 1
    /// # Ok::<(), djrs_paginate::axum::PaginationRejection>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// 500 when the source fails, 404 when the list has no page at all.
    pub async fn aget_page<S: AsyncObjectList>(
        &self,
        paginator: &AsyncPaginator<S>,
    ) -> Result<AsyncPage<S::Item>, PaginationRejection> {
        paginator
            .aget_page(self.number())
            .await
            .map_err(|e| PaginationRejection::from(e).for_page(self.raw()))
    }

    /// [`page`](Self::page) on an [`AsyncPaginator`]: Django's list-view rules.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use djrs_paginate::AsyncPaginator;
    /// use djrs_paginate::axum::PageParam;
    ///
    /// # tokio_test::block_on(async {
    /// let paginator = AsyncPaginator::new(0..95_u64, 10);
    /// let param = PageParam::from_query(Some("page=3"), "page");
    /// assert_eq!(param.apage(&paginator).await?.number(), 3);
    ///
    /// let past_the_end = PageParam::from_query(Some("page=11"), "page");
    /// let rejection = past_the_end.apage(&paginator).await.unwrap_err();
    /// assert_eq!(rejection.status(), StatusCode::NOT_FOUND);
    /// # Ok::<(), djrs_paginate::axum::PaginationRejection>(())
    /// # }).unwrap();
    /// ```
    ///
    /// # Errors
    /// 404 for an invalid page number, 500 when the source fails.
    pub async fn apage<S: AsyncObjectList>(
        &self,
        paginator: &AsyncPaginator<S>,
    ) -> Result<AsyncPage<S::Item>, PaginationRejection> {
        let wants_last = self.raw.as_deref() == Some("last");
        let num_pages = if wants_last {
            paginator.anum_pages().await?
        } else {
            0
        };
        let number = self.list_view_number(|| num_pages)?;
        paginator
            .apage(number)
            .await
            .map_err(|e| PaginationRejection::from(e).for_page(Some(&number.to_string())))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for PageParam {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(PageParam::from_query(parts.uri.query(), "page"))
    }
}

/// The raw `?cursor=` value of a request, for [`KeysetPaginator`](crate::KeysetPaginator).
/// Never rejects; an invalid cursor is reported when the page is fetched.
///
/// ```
/// use djrs_paginate::axum::CursorParam;
///
/// assert_eq!(CursorParam::from_query(Some("cursor=abc.def"), "cursor").token(), Some("abc.def"));
/// assert_eq!(CursorParam::from_query(Some("cursor="), "cursor").token(), None);
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CursorParam {
    token: Option<String>,
}

impl CursorParam {
    /// Reads parameter `name` from a raw query string; an empty value means no cursor.
    ///
    /// ```
    /// use djrs_paginate::axum::CursorParam;
    ///
    /// let param = CursorParam::from_query(Some("after=abc.def"), "after");
    /// assert_eq!(param.token(), Some("abc.def"));
    /// assert_eq!(CursorParam::from_query(Some("after="), "after").token(), None);
    /// ```
    #[must_use]
    pub fn from_query(query: Option<&str>, name: &str) -> Self {
        CursorParam {
            token: query_value(query, name).filter(|t| !t.is_empty()),
        }
    }

    /// The token, or `None` for the first page.
    ///
    /// ```
    /// use djrs_paginate::axum::CursorParam;
    ///
    /// let param = CursorParam::from_query(Some("cursor=abc.def&q=rust"), "cursor");
    /// assert_eq!(param.token(), Some("abc.def"));
    /// assert_eq!(CursorParam::default().token(), None); // the first page
    /// ```
    #[must_use]
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for CursorParam {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(CursorParam::from_query(parts.uri.query(), "cursor"))
    }
}

/// A pagination error as an HTTP response: 404 with Django's message for an invalid page
/// number or cursor (Django's views raise `Http404` for `InvalidPage`), 500 for a failing
/// source, whose detail is logged, never shown.
///
/// ```
/// use axum::response::IntoResponse;
/// use djrs_paginate::axum::PaginationRejection;
/// use djrs_paginate::Error;
///
/// let rejection = PaginationRejection::from(Error::EmptyPage("That page contains no results".into()));
/// let response = rejection.for_page(Some("7")).into_response();
/// assert_eq!(response.status(), 404); // body: "Invalid page (7): That page contains no results"
/// ```
#[derive(Debug)]
pub struct PaginationRejection {
    error: Error,
    page: Option<String>,
    not_last: bool,
}

impl PaginationRejection {
    /// The status this rejection answers with.
    ///
    /// ```
    /// use axum::http::StatusCode;
    /// use djrs_paginate::Error;
    /// use djrs_paginate::axum::PaginationRejection;
    ///
    /// let invalid = PaginationRejection::from(Error::EmptyPage("That page contains no results".into()));
    /// assert_eq!(invalid.status(), StatusCode::NOT_FOUND);
    /// assert_eq!(PaginationRejection::from(Error::ZeroPerPage).status(), StatusCode::INTERNAL_SERVER_ERROR);
    /// ```
    #[must_use]
    pub fn status(&self) -> StatusCode {
        match self.error {
            Error::PageNotAnInteger(_) | Error::EmptyPage(_) | Error::InvalidCursor(_) => {
                StatusCode::NOT_FOUND
            }
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The pagination error.
    ///
    /// ```
    /// use djrs_paginate::axum::PageParam;
    /// use djrs_paginate::{Error, Paginator};
    ///
    /// let paginator = Paginator::new(0..25_u64, 10);
    /// let rejection = PageParam::from_query(Some("page=7"), "page").page(&paginator).unwrap_err();
    /// assert!(matches!(rejection.error(), Error::EmptyPage(_)));
    /// assert_eq!(rejection.error().to_string(), "That page contains no results");
    /// ```
    #[must_use]
    pub fn error(&self) -> &Error {
        &self.error
    }

    /// Django's list-view 404 for a page that is neither an integer nor `last`.
    fn not_last() -> Self {
        let mut rejection = PaginationRejection::from(Error::PageNotAnInteger(
            "Page is not \u{201c}last\u{201d}, nor can it be converted to an int.".into(),
        ));
        rejection.not_last = true;
        rejection
    }

    /// Records the raw page number the error is about, for the 404 message.
    ///
    /// ```
    /// use axum::response::IntoResponse;
    /// use djrs_paginate::Error;
    /// use djrs_paginate::axum::PaginationRejection;
    ///
    /// # tokio_test::block_on(async {
    /// let rejection = PaginationRejection::from(Error::EmptyPage("That page contains no results".into()))
    ///     .for_page(Some("17"));
    /// let body = axum::body::to_bytes(rejection.into_response().into_body(), 1024).await.unwrap();
    /// assert_eq!(body, "Invalid page (17): That page contains no results");
    /// # });
    /// ```
    #[must_use]
    pub fn for_page(mut self, page: Option<&str>) -> Self {
        self.page = page.map(str::to_owned);
        self
    }
}

impl From<Error> for PaginationRejection {
    fn from(err: Error) -> Self {
        PaginationRejection {
            error: err,
            page: None,
            not_last: false,
        }
    }
}

impl std::fmt::Display for PaginationRejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.error.fmt(f)
    }
}

impl std::error::Error for PaginationRejection {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}

impl IntoResponse for PaginationRejection {
    fn into_response(self) -> Response {
        let status = self.status();
        if status == StatusCode::NOT_FOUND {
            // Django's `Http404` texts in its list views.
            let body = match (&self.error, self.not_last) {
                (_, true) | (Error::InvalidCursor(_), _) => self.error.to_string(),
                (error, false) => {
                    let page = self.page.as_deref().unwrap_or("1");
                    format!("Invalid page ({page}): {error}")
                }
            };
            tracing::debug!(error = ?self.error.to_string(), "invalid page requested");
            (status, body).into_response()
        } else {
            // Recorded escaped: a source error may quote the request's input.
            tracing::error!(error = ?self.error.to_string(), "pagination failed");
            (status, "Internal Server Error").into_response()
        }
    }
}

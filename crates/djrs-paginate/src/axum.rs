//! axum integration: the `?page=` and `?cursor=` extractors, a rejection that maps
//! `InvalidPage` to 404, and API pages in DRF's shape with `Link` headers ([`RequestUrl`],
//! [`Paginated`]).

use std::convert::Infallible;

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::{
    AsyncObjectList, AsyncPage, AsyncPaginator, Error, NavLinks, ObjectList, Page, PageEnvelope,
    PageNumber, PageSize, Paginator, QueryString,
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

/// A pagination error answers as its [`PaginationRejection`] does: 404 for an invalid page
/// number or cursor, 500 (detail logged, never shown) for a failing source. So a handler's
/// `?` on [`KeysetPaginator::page`](crate::KeysetPaginator::page) or an
/// [`AsyncPaginator`](crate::AsyncPaginator) call needs no `map_err`, and an application
/// error type wrapping it keeps the status by calling this.
///
/// ```
/// use axum::response::IntoResponse;
/// use djrs_paginate::Error;
///
/// assert_eq!(Error::InvalidCursor("bad signature").into_response().status(), 404);
/// assert_eq!(Error::Source("connection reset".into()).into_response().status(), 500);
/// ```
impl IntoResponse for Error {
    fn into_response(self) -> Response {
        PaginationRejection::from(self).into_response()
    }
}

/// The path and query string a request asked for, which an API's page links are made from
/// (DRF's `next` and `previous`, the `Link` header). Under `Router::nest` it is the path the
/// client sent (axum's `OriginalUri`). Never rejects.
///
/// The host is never taken from the request: a forged `Host` header would choose where the
/// links point. Links are relative (`/api/items?page=2`) unless [`RequestUrl::with_base`] names
/// the application's own origin.
///
/// ```
/// use axum::{Router, routing::get};
/// use djrs_paginate::{PageSize, Paginator};
/// use djrs_paginate::axum::{PageParam, Paginated, PaginationRejection, RequestUrl};
///
/// async fn items(url: RequestUrl, page: PageParam) -> Result<Paginated<djrs_paginate::PageEnvelope<Vec<u32>>>, PaginationRejection> {
///     let rows: Vec<u32> = (1..=95).collect();
///     let per_page = url.page_size(&PageSize::new(10).param("page_size").max(50));
///     let paginator = Paginator::new(&rows[..], per_page);
///     let page = page.page(&paginator)?.map(<[u32]>::to_vec);
///     Ok(Paginated::page(&url, page, "page"))
/// }
///
/// let app: Router = Router::new().route("/api/items", get(items));
/// # let _ = app;
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestUrl {
    base: String,
    query: QueryString,
}

impl RequestUrl {
    /// From a request URI (its path and query; a scheme and host in it are left out).
    ///
    /// ```
    /// use djrs_paginate::axum::RequestUrl;
    ///
    /// let url = RequestUrl::from_uri(&"http://evil.example/api/items?page=2".parse().unwrap());
    /// assert_eq!(url.path(), "/api/items");
    /// assert_eq!(url.query().get("page"), Some("2"));
    /// ```
    #[must_use]
    pub fn from_uri(uri: &Uri) -> Self {
        Self {
            base: uri.path().to_owned(),
            query: QueryString::parse(uri.query()),
        }
    }

    /// Links made absolute with the application's own origin (`https://api.example.com`), as
    /// DRF's are; a trailing `/` on it is dropped.
    ///
    /// ```
    /// use djrs_paginate::axum::RequestUrl;
    ///
    /// let url = RequestUrl::from_uri(&"/items".parse().unwrap()).with_base("https://api.example.com/");
    /// assert_eq!(url.path(), "https://api.example.com/items");
    /// ```
    #[must_use]
    pub fn with_base(mut self, origin: &str) -> Self {
        self.base = format!("{}{}", origin.trim_end_matches('/'), self.base);
        self
    }

    /// Where links point: the path, after the base when there is one.
    ///
    /// ```
    /// let url = djrs_paginate::axum::RequestUrl::from_uri(&"/items?x=1".parse().unwrap());
    /// assert_eq!(url.path(), "/items");
    /// ```
    #[must_use]
    pub fn path(&self) -> &str {
        &self.base
    }

    /// The request's query string.
    ///
    /// ```
    /// let url = djrs_paginate::axum::RequestUrl::from_uri(&"/items?x=1".parse().unwrap());
    /// assert_eq!(url.query().get("x"), Some("1"));
    /// ```
    #[must_use]
    pub fn query(&self) -> &QueryString {
        &self.query
    }

    /// The page size the request asks for, within `size`'s limits.
    ///
    /// ```
    /// use djrs_paginate::PageSize;
    /// use djrs_paginate::axum::RequestUrl;
    ///
    /// let url = RequestUrl::from_uri(&"/items?page_size=500".parse().unwrap());
    /// assert_eq!(url.page_size(&PageSize::new(20).param("page_size").max(100)), 100);
    /// ```
    #[must_use]
    pub fn page_size(&self, size: &PageSize) -> u64 {
        size.read(&self.query)
    }

    /// The links around a numbered page, `param` naming the page number.
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    /// use djrs_paginate::axum::RequestUrl;
    ///
    /// let url = RequestUrl::from_uri(&"/items?page=2".parse().unwrap());
    /// let links = url.links(&Paginator::new(0..30_u64, 10).page(2_u64)?, "page");
    /// assert_eq!(links.next.as_deref(), Some("/items?page=3"));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn links<T>(&self, page: &Page<T>, param: &str) -> NavLinks {
        NavLinks::of(page, &self.base, &self.query, param)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for RequestUrl {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let uri = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or(&parts.uri, |original| &original.0);
        Ok(RequestUrl::from_uri(uri))
    }
}

/// An API page: its JSON body in DRF's shape ([`PageEnvelope`] or
/// [`CursorEnvelope`](crate::CursorEnvelope)) and an
/// RFC 8288 `Link` header with the first, previous, next and last pages there are.
///
/// ```
/// use axum::response::IntoResponse;
/// use djrs_paginate::Paginator;
/// use djrs_paginate::axum::{Paginated, RequestUrl};
///
/// let url = RequestUrl::from_uri(&"/items?page=2&q=a".parse().unwrap());
/// let page = Paginator::new(vec![1, 2, 3, 4, 5], 2).page(2_u64)?.map(<[i32]>::to_vec);
/// let res = Paginated::page(&url, page, "page").into_response();
/// assert_eq!(
///     res.headers()["link"],
///     r#"</items?q=a>; rel="first", </items?q=a>; rel="prev", </items?page=3&q=a>; rel="next", </items?page=3&q=a>; rel="last""#
/// );
/// assert_eq!(res.headers()["content-type"], "application/json");
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct Paginated<B> {
    /// The JSON body.
    pub body: B,
    /// The links the `Link` header lists.
    pub links: NavLinks,
}

impl<T: Clone> Paginated<PageEnvelope<T>> {
    /// A numbered page, `param` naming the page number in links (DRF's
    /// `PageNumberPagination`).
    ///
    /// ```
    /// use djrs_paginate::Paginator;
    /// use djrs_paginate::axum::{Paginated, RequestUrl};
    ///
    /// let url = RequestUrl::from_uri(&"/items".parse().unwrap());
    /// let page = Paginator::new(vec![1, 2, 3], 2).page(1_u64)?.map(<[i32]>::to_vec);
    /// let paginated = Paginated::page(&url, page, "page");
    /// assert_eq!(paginated.body.count, 3);
    /// assert_eq!(paginated.body.next.as_deref(), Some("/items?page=2"));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    pub fn page(url: &RequestUrl, page: Page<T>, param: &str) -> Self {
        let links = url.links(&page, param);
        Self {
            body: PageEnvelope {
                count: page.count(),
                next: links.next.clone(),
                previous: links.prev.clone(),
                results: page.into_object_list(),
            },
            links,
        }
    }
}

#[cfg(any(feature = "postgres", feature = "mysql", feature = "sqlite"))]
impl<T> Paginated<crate::CursorEnvelope<Vec<T>>> {
    /// A keyset page, `param` naming the cursor in links (DRF's `CursorPagination`); the
    /// `Link` header has no last page.
    ///
    /// ```
    /// use djrs_paginate::axum::{Paginated, RequestUrl};
    /// use djrs_paginate::{KeyValue, KeysetPaginator, KeysetRow};
    /// use sea_query::{Order, Query};
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE item (id INTEGER PRIMARY KEY)").execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO item (id) VALUES (1), (2), (3)").execute(&pool).await.unwrap();
    /// #[derive(sqlx::FromRow)]
    /// struct Item {
    ///     id: i64,
    /// }
    ///
    /// impl KeysetRow for Item {
    ///     fn key_values(&self) -> Vec<KeyValue> {
    ///         vec![self.id.into()]
    ///     }
    /// }
    ///
    /// let url = RequestUrl::from_uri(&"/items?q=a".parse().unwrap());
    /// let query = Query::select().column("id").from("item").to_owned();
    /// let page = KeysetPaginator::<sqlx::Sqlite, Item>::new(pool, query, 2)
    ///     .key("id", Order::Desc)
    ///     .page(None)
    ///     .await?;
    /// let paginated = Paginated::keyset(&url, page, "cursor");
    /// let next = paginated.body.next.clone().unwrap();
    /// assert!(next.starts_with("/items?q=a&cursor="));
    /// assert_eq!(paginated.body.previous, None);
    /// assert_eq!(paginated.body.results.iter().map(|i| i.id).collect::<Vec<_>>(), [3, 2]);
    /// assert_eq!(paginated.links.header(), Some(format!("<{next}>; rel=\"next\"")));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    pub fn keyset(url: &RequestUrl, page: crate::KeysetPage<T>, param: &str) -> Self {
        let links = NavLinks::of_cursors(
            page.next_cursor(),
            page.previous_cursor(),
            &url.base,
            &url.query,
            param,
        );
        Self {
            body: crate::CursorEnvelope {
                next: links.next.clone(),
                previous: links.prev.clone(),
                results: page.into_object_list(),
            },
            links,
        }
    }
}

impl<B: Serialize> IntoResponse for Paginated<B> {
    fn into_response(self) -> Response {
        let mut response = axum::Json(self.body).into_response();
        // Every target is printable ASCII (`NavLinks::header` encodes the rest), so the value
        // is always valid; a link that were not would be left out rather than fail the page.
        if let Some(value) = self
            .links
            .header()
            .and_then(|links| HeaderValue::from_str(&links).ok())
        {
            response.headers_mut().insert(header::LINK, value);
        }
        response
    }
}

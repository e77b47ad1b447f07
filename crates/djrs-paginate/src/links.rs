//! Links between pages for APIs and templates: the request's query string with one parameter
//! changed (Django's `{% querystring %}`, DRF's `replace_query_param`), a page size the client
//! may choose up to a maximum (DRF's `page_size_query_param`), DRF's JSON envelopes and RFC 8288
//! `Link` headers.

use serde::Serialize;

use crate::Page;

/// A query string as the request sent it, in order, to build links that change some of its
/// parameters and keep the others (Django 6.0's `{% querystring %}`).
///
/// ```
/// use djrs_paginate::QueryString;
///
/// let query = QueryString::parse(Some("q=tea+cup&page=2&tag=a&tag=b"));
/// assert_eq!(query.get("page"), Some("2"));
/// assert_eq!(query.clone().set("page", "3").to_string(), "?q=tea+cup&page=3&tag=a&tag=b");
/// assert_eq!(query.clone().remove("tag").to_string(), "?q=tea+cup&page=2");
/// assert_eq!(QueryString::parse(Some("page=2")).remove("page").to_string(), "?");
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QueryString {
    pairs: Vec<(String, String)>,
}

impl QueryString {
    /// Reads a raw query string (without its `?`), percent-decoding names and values.
    ///
    /// ```
    /// let query = djrs_paginate::QueryString::parse(Some("a=%C3%A9&b"));
    /// assert_eq!(query.get("a"), Some("é"));
    /// assert_eq!(query.get("b"), Some(""));
    /// assert_eq!(djrs_paginate::QueryString::parse(None).get("a"), None);
    /// ```
    #[must_use]
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// The last value of `name` (Django's `request.GET.get`).
    ///
    /// ```
    /// let query = djrs_paginate::QueryString::parse(Some("a=1&a=2"));
    /// assert_eq!(query.get("a"), Some("2"));
    /// ```
    #[must_use]
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// `name` set to `value`: its first occurrence keeps its place, the others go; a new
    /// name goes last (`{% querystring name=value %}`).
    ///
    /// ```
    /// let query = djrs_paginate::QueryString::parse(Some("a=1&b=2&a=3"));
    /// assert_eq!(query.set("a", "x").to_string(), "?a=x&b=2");
    /// ```
    #[must_use]
    pub fn set(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.pairs.iter().position(|(k, _)| k == name) {
            Some(first) => {
                self.pairs[first].1 = value;
                let mut index = 0;
                self.pairs.retain(|(k, _)| {
                    index += 1;
                    index - 1 == first || k != name
                });
            }
            None => self.pairs.push((name.to_owned(), value)),
        }
        self
    }

    /// Every value of `name` removed (`{% querystring name=None %}`).
    ///
    /// ```
    /// let query = djrs_paginate::QueryString::parse(Some("a=1&b=2&a=3"));
    /// assert_eq!(query.remove("a").to_string(), "?b=2");
    /// ```
    #[must_use]
    pub fn remove(mut self, name: &str) -> Self {
        self.pairs.retain(|(k, _)| k != name);
        self
    }
}

/// `?` and the parameters, `application/x-www-form-urlencoded` (a space is `+`); `?` alone when
/// none is left, as Django's `{% querystring %}` writes it.
impl std::fmt::Display for QueryString {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut serializer = form_urlencoded::Serializer::for_suffix(String::from("?"), 1);
        for (k, v) in &self.pairs {
            serializer.append_pair(k, v);
        }
        f.write_str(&serializer.finish())
    }
}

/// The page size a client asks for with a query parameter, within limits (DRF's
/// `page_size_query_param` with `max_page_size`): a number above the maximum is the maximum;
/// anything but a positive integer (as Python's `int()` reads one) is the default.
///
/// ```
/// use djrs_paginate::{PageSize, QueryString};
///
/// let size = PageSize::new(25).param("page_size").max(100);
/// assert_eq!(size.read(&QueryString::parse(Some("page_size=40"))), 40);
/// assert_eq!(size.read(&QueryString::parse(Some("page_size=1000"))), 100);
/// for bad in ["page_size=0", "page_size=-3", "page_size=ten", "page_size=", "other=1"] {
///     assert_eq!(size.read(&QueryString::parse(Some(bad))), 25, "{bad}");
/// }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct PageSize {
    default: u64,
    param: Option<String>,
    max: Option<u64>,
}

impl PageSize {
    /// `default` objects a page, and no parameter to change it (DRF's `page_size`). A default
    /// of 0 is read as 1.
    ///
    /// ```
    /// let size = djrs_paginate::PageSize::new(25);
    /// assert_eq!(size.read(&djrs_paginate::QueryString::parse(Some("page_size=5"))), 25);
    /// ```
    pub fn new(default: u64) -> Self {
        Self {
            default: default.max(1),
            param: None,
            max: None,
        }
    }

    /// The query parameter the client sets it with (DRF's `page_size_query_param`).
    ///
    /// ```
    /// let size = djrs_paginate::PageSize::new(25).param("limit");
    /// assert_eq!(size.read(&djrs_paginate::QueryString::parse(Some("limit=5"))), 5);
    /// ```
    pub fn param(mut self, name: impl Into<String>) -> Self {
        self.param = Some(name.into());
        self
    }

    /// The most a client may ask for (DRF's `max_page_size`); at least 1.
    ///
    /// ```
    /// let size = djrs_paginate::PageSize::new(25).param("limit").max(50);
    /// assert_eq!(size.read(&djrs_paginate::QueryString::parse(Some("limit=51"))), 50);
    /// ```
    pub fn max(mut self, max: u64) -> Self {
        self.max = Some(max.max(1));
        self
    }

    /// The size `query` asks for, within the limits.
    ///
    /// ```
    /// let size = djrs_paginate::PageSize::new(10).param("n");
    /// assert_eq!(size.read(&djrs_paginate::QueryString::parse(Some("n=%2B7"))), 7);
    /// ```
    #[must_use]
    pub fn read(&self, query: &QueryString) -> u64 {
        let asked = self
            .param
            .as_deref()
            .and_then(|name| query.get(name))
            .and_then(crate::parse_python_int)
            .filter(|n| *n > 0)
            .map(|n| u64::try_from(n).unwrap_or(u64::MAX));
        match (asked, self.max) {
            (Some(n), Some(max)) => n.min(max),
            (Some(n), None) => n,
            (None, Some(max)) => self.default.min(max),
            (None, None) => self.default,
        }
    }
}

/// DRF's page-number response: `{"count", "next", "previous", "results"}`, `next` and
/// `previous` being links (or `null`).
///
/// ```
/// use djrs_paginate::{PageEnvelope, Paginator, QueryString};
///
/// let rows: Vec<u32> = (1..=25).collect();
/// let paginator = Paginator::new(&rows[..], 10);
/// let page = paginator.page(2_u64)?.map(<[u32]>::to_vec);
/// let query = QueryString::parse(Some("q=x&page=2"));
/// let body = PageEnvelope::new(&page, "/api/items", &query, "page");
/// assert_eq!(
///     serde_json::to_value(&body).unwrap(),
///     serde_json::json!({
///         "count": 25,
///         "next": "/api/items?q=x&page=3",
///         "previous": "/api/items?q=x",
///         "results": [11, 12, 13, 14, 15, 16, 17, 18, 19, 20],
///     })
/// );
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PageEnvelope<T> {
    /// How many objects all pages hold.
    pub count: u64,
    /// The next page's link.
    pub next: Option<String>,
    /// The previous page's link.
    pub previous: Option<String>,
    /// This page's objects.
    pub results: T,
}

impl<T: Clone> PageEnvelope<T> {
    /// The envelope of `page`, its links made from `base` (a path, or an absolute URL the
    /// application knows itself by) and the request's `query` with `param` (the page number's
    /// name) changed; the link to page 1 leaves `param` out, as DRF's does.
    ///
    /// ```
    /// use djrs_paginate::{PageEnvelope, Paginator, QueryString};
    ///
    /// let page = Paginator::new(vec![1, 2, 3], 2).page(1_u64)?.map(<[i32]>::to_vec);
    /// let body = PageEnvelope::new(&page, "https://api.example.com/n", &QueryString::default(), "page");
    /// assert_eq!(body.next.as_deref(), Some("https://api.example.com/n?page=2"));
    /// assert_eq!(body.previous, None);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    pub fn new(page: &Page<T>, base: &str, query: &QueryString, param: &str) -> Self {
        let links = NavLinks::of(page, base, query, param);
        Self {
            count: page.count(),
            next: links.next,
            previous: links.prev,
            results: page.object_list().clone(),
        }
    }
}

/// DRF's cursor response: `{"next", "previous", "results"}`, no count.
///
/// ```
/// let body = djrs_paginate::CursorEnvelope {
///     next: Some("/api/items?cursor=abc".to_owned()),
///     previous: None,
///     results: vec![1, 2],
/// };
/// assert_eq!(
///     serde_json::to_string(&body).unwrap(),
///     r#"{"next":"/api/items?cursor=abc","previous":null,"results":[1,2]}"#
/// );
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CursorEnvelope<T> {
    /// The next page's link.
    pub next: Option<String>,
    /// The previous page's link.
    pub previous: Option<String>,
    /// This page's objects.
    pub results: T,
}

/// The links of a page to the first, previous, next and last pages, and the RFC 8288 `Link`
/// header that lists them.
///
/// ```
/// use djrs_paginate::{NavLinks, Paginator, QueryString};
///
/// let paginator = Paginator::new(0..95_u64, 10);
/// let page = paginator.page(3_u64)?;
/// let links = NavLinks::of(&page, "/items", &QueryString::parse(Some("page=3&q=a")), "page");
/// assert_eq!(
///     links.header().as_deref(),
///     Some(r#"</items?q=a>; rel="first", </items?page=2&q=a>; rel="prev", </items?page=4&q=a>; rel="next", </items?page=10&q=a>; rel="last""#)
/// );
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NavLinks {
    /// The first page (none when this is it).
    pub first: Option<String>,
    /// The previous page.
    pub prev: Option<String>,
    /// The next page.
    pub next: Option<String>,
    /// The last page (none when this is it).
    pub last: Option<String>,
}

impl NavLinks {
    /// The links around a numbered page; page 1's link leaves `param` out.
    ///
    /// ```
    /// use djrs_paginate::{NavLinks, Paginator, QueryString};
    ///
    /// let page = Paginator::new(0..5_u64, 10).page(1_u64)?;
    /// assert_eq!(NavLinks::of(&page, "/i", &QueryString::default(), "page"), NavLinks::default());
    /// # Ok::<(), djrs_paginate::Error>(())
    /// ```
    #[must_use]
    pub fn of<T>(page: &Page<T>, base: &str, query: &QueryString, param: &str) -> Self {
        let link = |number: u64| {
            let query = if number == 1 {
                query.clone().remove(param)
            } else {
                query.clone().set(param, number.to_string())
            };
            join(base, &query)
        };
        let (number, last) = (page.number(), page.num_pages());
        Self {
            first: (number > 1).then(|| link(1)),
            prev: page.has_previous().then(|| link(number - 1)),
            next: page.has_next().then(|| link(number + 1)),
            last: (number < last).then(|| link(last)),
        }
    }

    /// The links around a keyset page: previous and next by cursor (`param` set to the
    /// page's cursors), first without one; a keyset page has no last.
    ///
    /// ```
    /// use djrs_paginate::{NavLinks, QueryString};
    ///
    /// let links = NavLinks::of_cursors(Some("n.sig"), Some("p.sig"), "/i", &QueryString::parse(Some("cursor=x")), "cursor");
    /// assert_eq!(links.next.as_deref(), Some("/i?cursor=n.sig"));
    /// assert_eq!(links.prev.as_deref(), Some("/i?cursor=p.sig"));
    /// assert_eq!(links.first.as_deref(), Some("/i"));
    /// assert_eq!(links.last, None);
    /// ```
    #[must_use]
    pub fn of_cursors(
        next: Option<&str>,
        previous: Option<&str>,
        base: &str,
        query: &QueryString,
        param: &str,
    ) -> Self {
        let link = |cursor: &str| join(base, &query.clone().set(param, cursor));
        Self {
            first: previous.map(|_| join(base, &query.clone().remove(param))),
            prev: previous.map(link),
            next: next.map(link),
            last: None,
        }
    }

    /// The `Link` header's value (RFC 8288): the links there are, in the order first, prev,
    /// next, last; `None` when there is none.
    ///
    /// ```
    /// let links = djrs_paginate::NavLinks { next: Some("/i?page=2".into()), ..Default::default() };
    /// assert_eq!(links.header().as_deref(), Some(r#"</i?page=2>; rel="next""#));
    /// ```
    #[must_use]
    pub fn header(&self) -> Option<String> {
        let parts: Vec<String> = [
            ("first", &self.first),
            ("prev", &self.prev),
            ("next", &self.next),
            ("last", &self.last),
        ]
        .into_iter()
        .filter_map(|(rel, url)| {
            url.as_ref()
                .map(|url| format!("<{}>; rel=\"{rel}\"", escape_target(url)))
        })
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    }
}

/// `base` and the query string, without a lone `?`.
fn join(base: &str, query: &QueryString) -> String {
    let query = query.to_string();
    if query == "?" {
        base.to_owned()
    } else {
        format!("{base}{query}")
    }
}

/// A URL as a `Link` target: every character that is not printable ASCII, and `<`, `>`, is
/// percent-encoded, so the header value can hold it and no target can close its brackets.
fn escape_target(url: &str) -> String {
    const OUTSIDE: &percent_encoding::AsciiSet =
        &percent_encoding::CONTROLS.add(b' ').add(b'<').add(b'>');
    percent_encoding::utf8_percent_encode(url, OUTSIDE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Paginator;

    #[test]
    fn set_keeps_the_first_place_and_drops_the_rest() {
        let q = QueryString::parse(Some("a=1&b=2&a=3&c=4&a=5"));
        assert_eq!(q.clone().set("a", "9").to_string(), "?a=9&b=2&c=4");
        assert_eq!(
            q.clone().set("d", "x y").to_string(),
            "?a=1&b=2&a=3&c=4&a=5&d=x+y"
        );
        assert_eq!(q.set("c", "&=").to_string(), "?a=1&b=2&a=3&c=%26%3D&a=5");
        assert_eq!(QueryString::default().to_string(), "?");
    }

    #[test]
    fn page_links_at_each_position() {
        let paginator = Paginator::new(0..30_u64, 10);
        let q = QueryString::parse(Some("page=2"));
        let links = |n: u64| NavLinks::of(&paginator.page(n).unwrap(), "/x", &q, "page");
        assert_eq!(
            links(1),
            NavLinks {
                first: None,
                prev: None,
                next: Some("/x?page=2".into()),
                last: Some("/x?page=3".into()),
            }
        );
        assert_eq!(
            links(2),
            NavLinks {
                first: Some("/x".into()),
                prev: Some("/x".into()),
                next: Some("/x?page=3".into()),
                last: Some("/x?page=3".into()),
            }
        );
        assert_eq!(
            links(3),
            NavLinks {
                first: Some("/x".into()),
                prev: Some("/x?page=2".into()),
                next: None,
                last: None,
            }
        );
    }

    #[test]
    fn cursor_links_keep_the_other_parameters() {
        let q = QueryString::parse(Some("q=a&cursor=old&size=5"));
        assert_eq!(
            NavLinks::of_cursors(Some("n"), None, "/c", &q, "cursor"),
            NavLinks {
                first: None,
                prev: None,
                next: Some("/c?q=a&cursor=n&size=5".into()),
                last: None,
            }
        );
        assert_eq!(
            NavLinks::of_cursors(None, Some("p"), "/c", &q, "cursor"),
            NavLinks {
                first: Some("/c?q=a&size=5".into()),
                prev: Some("/c?q=a&cursor=p&size=5".into()),
                next: None,
                last: None,
            }
        );
    }

    #[test]
    fn link_targets_cannot_break_out() {
        assert_eq!(escape_target("/a>b<c d\u{e9}"), "/a%3Eb%3Cc%20d%C3%A9");
        let links = NavLinks {
            next: Some("/i?q=\r\n>; rel=\"x\"".into()),
            ..NavLinks::default()
        };
        let header = links.header().unwrap();
        assert_eq!(header, "</i?q=%0D%0A%3E;%20rel=\"x\">; rel=\"next\"");
        assert!(axum_free_header_value_ok(&header));
    }

    /// What `http::HeaderValue::from_str` accepts: visible ASCII, space and tab.
    fn axum_free_header_value_ok(value: &str) -> bool {
        value
            .bytes()
            .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    }

    #[test]
    fn page_size_table() {
        let size = PageSize::new(20).param("size").max(50);
        for (query, want) in [
            ("size=1", 1),
            ("size=50", 50),
            ("size=51", 50),
            ("size=99999999999999999999999", 50),
            ("size=0", 20),
            ("size=-1", 20),
            ("size=1.5", 20),
            ("size= 7 ", 7),
            ("size=7&size=8", 8),
            ("", 20),
        ] {
            assert_eq!(size.read(&QueryString::parse(Some(query))), want, "{query}");
        }
        assert_eq!(PageSize::new(0).read(&QueryString::default()), 1);
        assert_eq!(PageSize::new(80).max(50).read(&QueryString::default()), 50);
        assert_eq!(
            PageSize::new(5)
                .param("s")
                .max(0)
                .read(&QueryString::parse(Some("s=3"))),
            1
        );
    }
}

//! Every case Django 6.0 recorded in `tests/data/django_paginate.json`, run through
//! `Paginator` and `AsyncPaginator`.
//!
//! Mapping of Python inputs that Rust's types express differently (documented in
//! docs/paginate.md):
//! - page numbers keep their Python type through `PageNumber` (int, str, float, None; `True`
//!   and `False` become 1 and 0, as Python counts them);
//! - `per_page`/`orphans` given as str, float or bool go through Python's `int()` (strings
//!   through `parse_python_int`, floats truncated); a constructor argument Python rejects
//!   (`None`, `"x"`) or a negative one cannot be expressed with the `u64` arguments, and such
//!   cases are counted and reported instead of compared;
//! - Django's `ZeroDivisionError` for `per_page=0` is `Error::ZeroPerPage`, and `num_pages`
//!   is then 0.

use std::fs;

use djrs_paginate::{AsyncPaginator, Error, ErrorMessages, Page, PageLink, PageNumber, Paginator};
use serde_json::Value;

fn data() -> Value {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/django_paginate.json"
    );
    serde_json::from_str(&fs::read_to_string(path).expect("conformance data")).expect("valid JSON")
}

/// A typed Python value as a page number.
fn page_number(v: &Value) -> PageNumber<'_> {
    match v["type"].as_str().expect("type") {
        "int" => {
            let value = &v["value"];
            let n = value
                .as_i64()
                .map(i128::from)
                .or_else(|| value.as_str().and_then(|s| s.parse::<i128>().ok()))
                .expect("int value");
            PageNumber::Int(n)
        }
        "str" => PageNumber::Str(v["value"].as_str().expect("str value")),
        "float" => PageNumber::Float(float_value(v)),
        "bool" => PageNumber::from(v["value"].as_bool().expect("bool value")),
        "none" => PageNumber::Missing,
        other => panic!("unknown input type {other}"),
    }
}

fn float_value(v: &Value) -> f64 {
    match &v["value"] {
        Value::String(s) => match s.as_str() {
            "nan" => f64::NAN,
            "inf" => f64::INFINITY,
            "-inf" => f64::NEG_INFINITY,
            other => other.parse().expect("float repr"),
        },
        n => n.as_f64().expect("float value"),
    }
}

/// Python's `int(v)` for a constructor argument, when it is a non-negative integer.
fn constructor_int(v: &Value) -> Option<u64> {
    let n: i128 = match v["type"].as_str()? {
        "int" => v["value"].as_i64()?.into(),
        "str" => djrs_paginate::parse_python_int(v["value"].as_str()?)?,
        "float" => float_value(v).trunc() as i128,
        "bool" => v["value"].as_bool()?.into(),
        _ => return None,
    };
    u64::try_from(n).ok()
}

fn messages(v: &Value) -> ErrorMessages {
    let mut messages = ErrorMessages::default();
    if let Some(map) = v.as_object() {
        for (key, text) in map {
            messages = messages
                .with_key(key, text.as_str().expect("message").to_owned())
                .unwrap_or_else(|| panic!("unknown error_messages key {key}"));
        }
    }
    messages
}

/// Checks an error against Django's recorded `{"error": {"class", "message"}}`.
fn check_error(ctx: &str, got: &Error, want: &Value) {
    let class = want["class"].as_str().expect("class");
    match (class, got) {
        ("PageNotAnInteger", Error::PageNotAnInteger(m)) | ("EmptyPage", Error::EmptyPage(m)) => {
            assert_eq!(
                m,
                want["message"].as_str().expect("message"),
                "{ctx}: message"
            );
        }
        ("ZeroDivisionError", Error::ZeroPerPage) => {}
        _ => panic!(
            "{ctx}: got {got:?}, Django raised {class}: {}",
            want["message"]
        ),
    }
}

fn check_u64_result(ctx: &str, got: Result<u64, Error>, want: &Value) {
    match (got, want.get("ok")) {
        (Ok(n), Some(ok)) => assert_eq!(Some(n), ok.as_u64(), "{ctx}"),
        (Err(e), None) => check_error(ctx, &e, &want["error"]),
        (got, _) => panic!("{ctx}: got {got:?}, Django gave {want}"),
    }
}

/// Compares a page with Django's record. `objects` is the page's object list as integers.
fn check_page<T>(ctx: &str, page: &Page<T>, objects: &[u64], want: &Value, repr: bool) {
    assert_eq!(
        page.number(),
        want["number"].as_u64().unwrap(),
        "{ctx}: number"
    );
    assert_eq!(page.len(), want["len"].as_u64().unwrap(), "{ctx}: len");
    let slice = want["slice"].as_array().unwrap();
    let (start, stop) = (slice[0].as_u64().unwrap(), slice[1].as_u64().unwrap());
    assert_eq!(objects.len() as u64, stop - start, "{ctx}: slice length");
    if let Some(first) = objects.first() {
        assert_eq!(*first, start, "{ctx}: slice start");
    }
    if let Some(expected) = want.get("objects").and_then(Value::as_array) {
        let expected: Vec<u64> = expected.iter().map(|v| v.as_u64().unwrap()).collect();
        assert_eq!(objects, expected, "{ctx}: objects");
    }
    assert_eq!(
        page.start_index(),
        want["start_index"].as_u64().unwrap(),
        "{ctx}: start_index"
    );
    assert_eq!(
        page.end_index(),
        want["end_index"].as_u64().unwrap(),
        "{ctx}: end_index"
    );
    assert_eq!(
        page.has_next(),
        want["has_next"].as_bool().unwrap(),
        "{ctx}: has_next"
    );
    assert_eq!(
        page.has_previous(),
        want["has_previous"].as_bool().unwrap(),
        "{ctx}: has_previous"
    );
    assert_eq!(
        page.has_other_pages(),
        want["has_other_pages"].as_bool().unwrap(),
        "{ctx}: has_other_pages"
    );
    check_u64_result(
        &format!("{ctx}: next_page_number"),
        page.next_page_number(),
        &want["next_page_number"],
    );
    check_u64_result(
        &format!("{ctx}: previous_page_number"),
        page.previous_page_number(),
        &want["previous_page_number"],
    );
    if repr {
        assert_eq!(
            page.to_string(),
            want["repr"].as_str().unwrap(),
            "{ctx}: repr"
        );
    }
}

fn check_page_result<T>(
    ctx: &str,
    got: Result<Page<T>, Error>,
    objects: impl Fn(&T) -> Vec<u64>,
    want: &Value,
    reprs: &mut Vec<String>,
    sync: bool,
) {
    match (got, want.get("ok")) {
        (Ok(page), Some(ok)) => {
            check_page(ctx, &page, &objects(page.object_list()), ok, sync);
            reprs.push(page.to_string());
        }
        (Err(e), None) => check_error(ctx, &e, &want["error"]),
        (Ok(page), None) => panic!("{ctx}: got {page}, Django raised {}", want["error"]),
        (Err(e), Some(_)) => panic!("{ctx}: got {e:?}, Django gave {want}"),
    }
}

#[tokio::test]
async fn paginator_cases_match_django() {
    let data = data();
    let cases = data["cases"].as_array().expect("cases");
    assert!(!cases.is_empty());
    let (mut compared, mut inexpressible) = (0, 0);
    for case in cases {
        let id = case["id"].as_str().unwrap();
        let input = &case["input"];
        let (Some(per_page), Some(orphans)) = (
            constructor_int(&input["per_page"]),
            constructor_int(&input["orphans"]),
        ) else {
            inexpressible += 1;
            continue;
        };
        assert!(
            case["construct"].get("error").is_none(),
            "{id}: Django rejected what Rust accepts"
        );
        let n = input["n"].as_u64().unwrap();
        let allow_empty = input["allow_empty_first_page"].as_bool().unwrap();
        let msgs = messages(&input["error_messages"]);
        let number = page_number(&input["number"]);

        let sync = Paginator::new(0..n, per_page)
            .orphans(orphans)
            .allow_empty_first_page(allow_empty)
            .error_messages(msgs.clone());
        let asynchronous = AsyncPaginator::new(0..n, per_page)
            .orphans(orphans)
            .allow_empty_first_page(allow_empty)
            .error_messages(msgs);

        // Warnings raised while constructing.
        let warnings: Vec<(String, String)> = case["construct"]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| {
                (
                    w["category"].as_str().unwrap().to_owned(),
                    w["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect();
        for got in [sync.warnings(), asynchronous.warnings()] {
            let got: Vec<(String, String)> = got
                .into_iter()
                .map(|w| (w.category.to_owned(), w.message))
                .collect();
            assert_eq!(got, warnings, "{id}: warnings");
        }

        // count, num_pages, page_range.
        let paginator = &case["paginator"];
        if let Some(err) = paginator.get("error") {
            assert_eq!(err["class"], "ZeroDivisionError", "{id}");
            assert_eq!(per_page, 0, "{id}");
            assert_eq!(sync.num_pages(), 0, "{id}");
            assert_eq!(asynchronous.anum_pages().await.unwrap(), 0, "{id}");
        } else {
            assert_eq!(
                sync.count(),
                paginator["count"].as_u64().unwrap(),
                "{id}: count"
            );
            assert_eq!(
                asynchronous.acount().await.unwrap(),
                sync.count(),
                "{id}: acount"
            );
            let num_pages = paginator["num_pages"].as_u64().unwrap();
            assert_eq!(sync.num_pages(), num_pages, "{id}: num_pages");
            assert_eq!(
                asynchronous.anum_pages().await.unwrap(),
                num_pages,
                "{id}: anum_pages"
            );
            let bounds = paginator["page_range_bounds"].as_array().unwrap();
            let range = sync.page_range();
            assert_eq!(
                *range.start(),
                bounds[0].as_u64().unwrap(),
                "{id}: page_range start"
            );
            assert_eq!(
                range.end() + 1,
                bounds[1].as_u64().unwrap(),
                "{id}: page_range stop"
            );
            assert_eq!(
                asynchronous.apage_range().await.unwrap(),
                range,
                "{id}: apage_range"
            );
            if let Some(list) = paginator["page_range"].as_array() {
                let want: Vec<u64> = list.iter().map(|v| v.as_u64().unwrap()).collect();
                assert_eq!(range.collect::<Vec<_>>(), want, "{id}: page_range");
            }
        }

        check_u64_result(
            &format!("{id}: validate_number"),
            sync.validate_number(number),
            &case["validate_number"],
        );
        check_u64_result(
            &format!("{id}: avalidate_number"),
            asynchronous.avalidate_number(number).await,
            &case["validate_number"],
        );

        let range_objects = |r: &std::ops::Range<u64>| r.clone().collect::<Vec<_>>();
        let vec_objects = |v: &Vec<u64>| v.clone();
        let mut sync_reprs = Vec::new();
        let mut async_reprs = Vec::new();
        check_page_result(
            &format!("{id}: page"),
            sync.page(number),
            range_objects,
            &case["page"],
            &mut sync_reprs,
            true,
        );
        check_page_result(
            &format!("{id}: get_page"),
            sync.get_page(number),
            range_objects,
            &case["get_page"],
            &mut sync_reprs,
            true,
        );
        check_page_result(
            &format!("{id}: apage"),
            asynchronous.apage(number).await,
            vec_objects,
            &case["page"],
            &mut async_reprs,
            false,
        );
        check_page_result(
            &format!("{id}: aget_page"),
            asynchronous.aget_page(number).await,
            vec_objects,
            &case["get_page"],
            &mut async_reprs,
            false,
        );
        if let Some(want) = case.get("async_reprs").and_then(Value::as_array) {
            let want: Vec<&str> = want.iter().map(|v| v.as_str().unwrap()).collect();
            assert_eq!(async_reprs, want, "{id}: async reprs");
        }
        compared += 1;
    }
    println!(
        "paginator cases: {compared} compared, {inexpressible} with per_page/orphans Rust's u64 cannot express"
    );
    assert!(compared > 0);
    // The inexpressible ones are a minority (None, "x" and negative arguments).
    assert!(
        inexpressible * 10 < cases.len(),
        "too many cases skipped: {inexpressible}"
    );
}

fn link_json(link: &PageLink) -> Value {
    match link {
        PageLink::Number(n) => Value::from(*n),
        PageLink::Ellipsis => Value::from(djrs_paginate::ELLIPSIS),
    }
}

#[tokio::test]
async fn elided_page_ranges_match_django() {
    let data = data();
    let cases = data["elided"].as_array().expect("elided");
    assert!(!cases.is_empty());
    for (i, case) in cases.iter().enumerate() {
        let ctx = format!("elided[{i}] {case}");
        let n = case["n"].as_u64().unwrap();
        let per_page = case["per_page"].as_u64().unwrap();
        let orphans = case["orphans"].as_u64().unwrap();
        let allow_empty = case["allow_empty_first_page"].as_bool().unwrap();
        let number = if case["number_omitted"].as_bool().unwrap() {
            PageNumber::Int(1)
        } else {
            page_number(&case["number"])
        };
        let on_each_side = case["on_each_side"]
            .as_u64()
            .unwrap_or(djrs_paginate::DEFAULT_ON_EACH_SIDE);
        let on_ends = case["on_ends"]
            .as_u64()
            .unwrap_or(djrs_paginate::DEFAULT_ON_ENDS);

        let sync = Paginator::new(0..n, per_page)
            .orphans(orphans)
            .allow_empty_first_page(allow_empty);
        assert_eq!(
            sync.num_pages(),
            case["num_pages"].as_u64().unwrap(),
            "{ctx}"
        );
        let asynchronous = AsyncPaginator::new(0..n, per_page)
            .orphans(orphans)
            .allow_empty_first_page(allow_empty);
        let results = [
            sync.get_elided_page_range(number, on_each_side, on_ends),
            asynchronous
                .aget_elided_page_range(number, on_each_side, on_ends)
                .await,
        ];
        for got in results {
            match (got, case["result"].get("ok")) {
                (Ok(links), Some(ok)) => {
                    let links: Vec<Value> = links.iter().map(link_json).collect();
                    assert_eq!(&Value::from(links), ok, "{ctx}");
                }
                (Err(e), None) => check_error(&ctx, &e, &case["result"]["error"]),
                (got, _) => panic!("{ctx}: got {got:?}"),
            }
        }
    }
}

//! Any input to `get_page` gives a valid page; nothing panics or overflows.

use djrs_paginate::{Error, PageNumber, Paginator};
use proptest::prelude::*;

fn check_page(count: u64, per_page: u64, orphans: u64, allow_empty: bool, number: PageNumber<'_>) {
    let paginator = Paginator::new(0..count, per_page)
        .orphans(orphans)
        .allow_empty_first_page(allow_empty);
    let num_pages = paginator.num_pages();
    match paginator.get_page(number) {
        Ok(page) => {
            assert!(page.number() >= 1 && page.number() <= num_pages);
            let objects = page.object_list();
            assert!(objects.end <= count);
            assert_eq!(page.len(), objects.end - objects.start);
            assert!(page.start_index() <= page.end_index() || page.is_empty());
        }
        // Only a list with no page at all may refuse.
        Err(Error::EmptyPage(_)) => assert_eq!(num_pages, 0),
        Err(Error::ZeroPerPage) => assert_eq!(per_page, 0),
        Err(other) => panic!("unexpected {other:?}"),
    }
    // `page` either agrees with `validate_number` or reports an InvalidPage.
    match (paginator.validate_number(number), paginator.page(number)) {
        (Ok(n), Ok(page)) => assert_eq!(page.number(), n),
        (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
        (a, b) => panic!("validate_number {a:?} but page {:?}", b.map(|p| p.number())),
    }
}

proptest! {
    #[test]
    fn any_string_gives_a_valid_page(
        raw in any::<String>(),
        count in 0u64..10_000,
        per_page in 1u64..100,
        orphans in 0u64..10,
        allow_empty in any::<bool>(),
    ) {
        check_page(count, per_page, orphans, allow_empty, PageNumber::Str(&raw));
    }

    #[test]
    fn numeric_looking_strings_give_a_valid_page(
        raw in r"[ \t+-]?[0-9_٠-٩０-９]{0,40}[ \n]?",
        count in 0u64..u64::MAX,
        per_page in 1u64..u64::MAX,
    ) {
        check_page(count, per_page, 0, true, PageNumber::Str(&raw));
    }

    #[test]
    fn any_number_gives_a_valid_page(n in any::<i128>(), f in any::<f64>(), count in 0u64..u64::MAX, per_page in 0u64..1000) {
        check_page(count, per_page, 3, true, PageNumber::Int(n));
        check_page(count, per_page, 3, false, PageNumber::Float(f));
    }
}

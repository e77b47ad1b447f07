//! Unit tables of `keyset.rs`.

use super::cursor::{TAG_LEN, decode_cursor};
use super::*;

fn test_key() -> CursorKey {
    CursorKey::new([7u8; 32])
}

fn payload(list: &str, t: u64) -> CursorPayload {
    CursorPayload {
        d: Direction::After,
        k: vec![KeyValue::Int(5), "x".into(), true.into()],
        l: list.into(),
        t,
    }
}

/// The error message of an `Error::InvalidCursor`, or what came instead.
fn cursor_error<T: fmt::Debug>(result: Result<T>) -> String {
    match result {
        Err(Error::InvalidCursor(message)) => message.to_owned(),
        other => format!("not an InvalidCursor: {other:?}"),
    }
}

#[test]
fn key_values_convert_from_integers_text_and_booleans() {
    assert_eq!(KeyValue::from(-3_i64), KeyValue::Int(-3));
    assert_eq!(KeyValue::from(7_i32), KeyValue::Int(7));
    assert_eq!(KeyValue::from("a"), KeyValue::Text("a".into()));
    assert_eq!(
        KeyValue::from(String::from("b")),
        KeyValue::Text("b".into())
    );
    assert_eq!(KeyValue::from(true), KeyValue::Bool(true));
}

#[test]
fn cursor_keys_shorter_than_32_bytes_are_refused() {
    for (len, accepted) in [(0, false), (1, false), (31, false), (32, true), (33, true)] {
        let result = CursorKey::try_new(vec![1u8; len]);
        match result {
            Ok(key) => {
                assert!(accepted, "{len} bytes accepted");
                assert_eq!(key.0, vec![1u8; len]);
            }
            Err(Error::WeakCursorKey { len: got, min }) => {
                assert!(!accepted, "{len} bytes refused");
                assert_eq!((got, min), (len, CursorKey::MIN_LEN));
            }
            Err(other) => panic!("{len} bytes: {other}"),
        }
    }
}

#[test]
fn random_keys_differ_and_the_process_key_stays() {
    let (a, b) = (CursorKey::random(), CursorKey::random());
    assert_eq!(a.0.len(), 32);
    assert_ne!(a.0, b.0);
    assert_eq!(CursorKey::process().0, CursorKey::process().0);
    assert_eq!(CursorKey::process().0.len(), 32);
}

#[test]
fn debug_output_hides_the_secret() {
    let key = CursorKey::new(b"0123456789abcdef0123456789abcdef");
    assert_eq!(format!("{key:?}"), "CursorKey(..)");
}

#[test]
fn now_is_seconds_since_the_epoch() {
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let now = now_unix();
    assert!((before..=before + 1).contains(&now), "{before} {now}");
}

#[test]
fn cursor_round_trips_and_rejects_tampering() {
    let key = CursorKey::new(b"k");
    let payload = CursorPayload {
        d: Direction::After,
        k: vec![KeyValue::Int(5), "x".into()],
        l: "list".into(),
        t: now_unix(),
    };
    let token = encode_cursor(&key, &payload);
    let back = decode_cursor(&key, &token).unwrap();
    assert_eq!(back.k, payload.k);
    assert_eq!(back.d, Direction::After);

    // Same payload, other key: rejected.
    assert!(matches!(
        decode_cursor(&CursorKey::new(b"other"), &token),
        Err(Error::InvalidCursor(_))
    ));
    // A forged body with the old signature: rejected.
    let (_, tag) = token.split_once('.').unwrap();
    let forged = format!(
        "{}.{tag}",
        URL_SAFE_NO_PAD.encode(br#"{"d":"a","k":[6,"x"],"l":"list","t":0}"#)
    );
    assert!(matches!(
        decode_cursor(&key, &forged),
        Err(Error::InvalidCursor(_))
    ));
    for garbage in [
        "",
        ".",
        "abc",
        "a.b",
        "!!!.???",
        "eyJ9.AAAAAAAAAAAAAAAAAAAAAA",
    ] {
        assert!(
            matches!(decode_cursor(&key, garbage), Err(Error::InvalidCursor(_))),
            "{garbage:?}"
        );
    }
}

#[test]
fn each_malformed_cursor_is_refused_with_its_reason() {
    let key = test_key();
    let token = encode_cursor(&key, &payload("list", 0));
    let (body, _) = token.split_once('.').unwrap();
    // A signed body that is not a payload.
    let json = b"{}";
    let signed_junk = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json),
        URL_SAFE_NO_PAD.encode(&key.mac(json).finalize().into_bytes()[..TAG_LEN])
    );
    let full_tag = key
        .mac(&URL_SAFE_NO_PAD.decode(body).unwrap())
        .finalize()
        .into_bytes();
    let with_tag = |bytes: &[u8]| format!("{body}.{}", URL_SAFE_NO_PAD.encode(bytes));
    let mut flipped = full_tag[..TAG_LEN].to_vec();
    flipped[0] ^= 1;
    let cases: &[(String, &str)] = &[
        ("a".repeat(5000), "the cursor is too long"),
        (format!("{}.", "a".repeat(4096)), "the cursor is too long"),
        // 4,096 characters are not too long: this one fails for what it is.
        ("a".repeat(4096), "the cursor has no signature"),
        (String::new(), "the cursor has no signature"),
        ("!!!.AAAA".into(), "the cursor is not base64url"),
        (
            format!("{body}.!!!"),
            "the cursor signature is not base64url",
        ),
        // Half a signature would be a 64-bit tag, far easier to forge.
        (
            with_tag(&full_tag[..8]),
            "the cursor signature has the wrong length",
        ),
        (
            with_tag(&full_tag),
            "the cursor signature has the wrong length",
        ),
        (with_tag(&flipped), "the cursor signature does not match"),
        (signed_junk, "the cursor payload is malformed"),
    ];
    for (token, reason) in cases {
        assert_eq!(
            cursor_error(decode_cursor(&key, token)),
            *reason,
            "{token:.40}"
        );
    }
    let back = decode_cursor(&key, &token).unwrap();
    assert_eq!(
        back.k,
        [
            KeyValue::Int(5),
            KeyValue::Text("x".into()),
            KeyValue::Bool(true)
        ]
    );
}

proptest::proptest! {
    /// Whatever a cursor holds, it decodes to what was signed, and changing any one
    /// character of it makes it invalid.
    #[test]
    fn any_changed_character_invalidates_a_cursor(
        ints in proptest::collection::vec(proptest::prelude::any::<i64>(), 0..4),
        text in ".{0,40}",
        list in "[a-z:]{0,20}",
        at in proptest::prelude::any::<proptest::sample::Index>(),
        with in "[A-Za-z0-9_.-]",
    ) {
        let key = test_key();
        let mut k: Vec<KeyValue> = ints.into_iter().map(KeyValue::Int).collect();
        k.push(text.into());
        let payload = CursorPayload { d: Direction::Before, k: k.clone(), l: list.clone(), t: 9 };
        let token = encode_cursor(&key, &payload);
        let back = decode_cursor(&key, &token).unwrap();
        proptest::prop_assert_eq!(
            (back.d, back.k, back.l, back.t),
            (Direction::Before, k, list, 9)
        );
        let at = at.index(token.len());
        proptest::prop_assume!(token.as_bytes()[at] != with.as_bytes()[0]);
        let mut changed = token.clone();
        changed.replace_range(at..=at, &with);
        proptest::prop_assert!(
            matches!(decode_cursor(&key, &changed), Err(Error::InvalidCursor(_))),
            "{}",
            changed
        );
    }
}

#[test]
fn a_cursor_belongs_to_its_list_and_may_expire() {
    use std::time::Duration;

    let key = test_key();
    let now = now_unix();
    let hour = Some(Duration::from_secs(3600));
    let cases: &[(u64, &str, Option<Duration>, Option<&str>)] = &[
        (now, "list", None, None),
        (
            now,
            "other",
            None,
            Some("the cursor belongs to another list"),
        ),
        (0, "list", None, None),
        (0, "list", hour, Some("the cursor has expired")),
        (now - 60, "list", hour, None),
        (now - 7200, "list", hour, Some("the cursor has expired")),
        // A cursor signed later than now (clocks differ between processes) is not old.
        (now + 60, "list", Some(Duration::ZERO), None),
    ];
    for &(t, list, max_age, refused) in cases {
        let token = encode_cursor(&key, &payload("list", t));
        let result = decode_cursor_for(&key, &token, list, max_age);
        match refused {
            None => assert_eq!(result.unwrap().t, t, "{t} {list} {max_age:?}"),
            Some(reason) => {
                assert_eq!(cursor_error(result), reason, "{t} {list} {max_age:?}");
            }
        }
    }
}

#[test]
fn a_page_reports_its_rows_and_cursors() {
    let page = KeysetPage {
        object_list: vec![1, 2],
        next_cursor: Some("n".to_owned()),
        previous_cursor: None,
    };
    assert_eq!(page.object_list(), [1, 2]);
    assert_eq!(
        (page.next_cursor(), page.previous_cursor()),
        (Some("n"), None)
    );
    assert_eq!((page.has_next(), page.has_previous()), (true, false));
    assert_eq!(page.into_object_list(), [1, 2]);
    let page = KeysetPage::<i32> {
        object_list: vec![],
        next_cursor: None,
        previous_cursor: Some("p".to_owned()),
    };
    assert_eq!(
        (page.next_cursor(), page.previous_cursor()),
        (None, Some("p"))
    );
    assert_eq!((page.has_next(), page.has_previous()), (false, true));
}

/// Pages and statements, on an in-memory SQLite database.
#[cfg(feature = "sqlite")]
mod sqlite {
    use sea_query::Query;

    use super::*;

    type Sqlite = sqlx::Sqlite;

    /// A row of the `item` table: an id and a group that several rows share.
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    struct Item {
        id: i64,
        grp: i64,
    }

    impl KeysetRow for Item {
        fn key_values(&self) -> Vec<KeyValue> {
            vec![self.grp.into(), self.id.into()]
        }
    }

    /// Rows keyed on `id` alone.
    #[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
    struct ById {
        id: i64,
    }

    impl KeysetRow for ById {
        fn key_values(&self) -> Vec<KeyValue> {
            vec![self.id.into()]
        }
    }

    /// An in-memory SQLite database (one connection, so one database) with `item` rows
    /// `(1, 1)` to `(rows, rows % 3)`.
    async fn memory_pool(rows: i64) -> sqlx::SqlitePool {
        let pool = sqlx::sqlite::SqlitePoolOptions::new()
            .max_connections(1)
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect("sqlite::memory:")
            .await
            .unwrap();
        sqlx::query("CREATE TABLE item (id INTEGER PRIMARY KEY, grp INTEGER NOT NULL)")
            .execute(&pool)
            .await
            .unwrap();
        for id in 1..=rows {
            sqlx::query("INSERT INTO item (id, grp) VALUES (?, ?)")
                .bind(id)
                .bind(id % 3)
                .execute(&pool)
                .await
                .unwrap();
        }
        pool
    }

    fn items() -> SelectStatement {
        Query::select()
            .columns(["id", "grp"])
            .from("item")
            .to_owned()
    }

    /// Key columns and their directions, in `KeysetPaginator::key` order.
    type Keys<'a> = &'a [(&'static str, Order)];

    /// The SQL of a page's statement, per page of 3 rows.
    fn page_sql(keys: Keys<'_>, after: Option<&[KeyValue]>, backward: bool) -> String {
        let pool = sqlx::SqlitePool::connect_lazy("sqlite::memory:").unwrap();
        let mut query = items();
        // The paginator owns the order: one in the statement is replaced.
        query.order_by("grp", Order::Desc);
        let mut paginator = KeysetPaginator::<Sqlite, Item>::new(pool, query, 3);
        for (column, order) in keys {
            paginator = paginator.key(*column, order.clone());
        }
        Sqlite::to_sql(&paginator.statement(after, backward))
    }

    #[tokio::test]
    async fn the_seek_condition_follows_each_key_direction() {
        use KeyValue::Int;
        use Order::{Asc, Desc};

        const SELECT: &str = r#"SELECT "id", "grp" FROM "item""#;
        let cases: &[(Keys<'_>, Option<&[KeyValue]>, bool, &str)] = &[
            (&[("id", Asc)], None, false, r#"ORDER BY "id" ASC LIMIT 4"#),
            (
                &[("id", Desc)],
                None,
                false,
                r#"ORDER BY "id" DESC LIMIT 4"#,
            ),
            (
                &[("id", Asc)],
                Some(&[Int(5)]),
                false,
                r#"WHERE "id" > 5 ORDER BY "id" ASC LIMIT 4"#,
            ),
            (
                &[("id", Asc)],
                Some(&[Int(5)]),
                true,
                r#"WHERE "id" < 5 ORDER BY "id" DESC LIMIT 4"#,
            ),
            (
                &[("id", Desc)],
                Some(&[Int(5)]),
                false,
                r#"WHERE "id" < 5 ORDER BY "id" DESC LIMIT 4"#,
            ),
            (
                &[("id", Desc)],
                Some(&[Int(5)]),
                true,
                r#"WHERE "id" > 5 ORDER BY "id" ASC LIMIT 4"#,
            ),
            // Every column the same way: one row-value comparison.
            (
                &[("grp", Asc), ("id", Asc)],
                Some(&[Int(1), Int(5)]),
                false,
                r#"WHERE ("grp", "id") > (1, 5) ORDER BY "grp" ASC, "id" ASC LIMIT 4"#,
            ),
            (
                &[("grp", Asc), ("id", Asc)],
                Some(&[Int(1), Int(5)]),
                true,
                r#"WHERE ("grp", "id") < (1, 5) ORDER BY "grp" DESC, "id" DESC LIMIT 4"#,
            ),
            (
                &[("grp", Desc), ("id", Desc)],
                Some(&[Int(1), Int(5)]),
                false,
                r#"WHERE ("grp", "id") < (1, 5) ORDER BY "grp" DESC, "id" DESC LIMIT 4"#,
            ),
            (
                &[("grp", Desc), ("id", Desc)],
                Some(&[Int(1), Int(5)]),
                true,
                r#"WHERE ("grp", "id") > (1, 5) ORDER BY "grp" ASC, "id" ASC LIMIT 4"#,
            ),
            // Mixed directions: the OR of "equal on a prefix, past on the next column".
            (
                &[("grp", Desc), ("id", Asc)],
                Some(&[Int(1), Int(5)]),
                false,
                r#"WHERE "grp" < 1 OR ("grp" = 1 AND "id" > 5) ORDER BY "grp" DESC, "id" ASC LIMIT 4"#,
            ),
            (
                &[("grp", Desc), ("id", Asc)],
                Some(&[Int(1), Int(5)]),
                true,
                r#"WHERE "grp" > 1 OR ("grp" = 1 AND "id" < 5) ORDER BY "grp" ASC, "id" DESC LIMIT 4"#,
            ),
            (
                &[("grp", Asc), ("id", Desc)],
                Some(&[Int(1), Int(5)]),
                false,
                r#"WHERE "grp" > 1 OR ("grp" = 1 AND "id" < 5) ORDER BY "grp" ASC, "id" DESC LIMIT 4"#,
            ),
        ];
        for (keys, after, backward, tail) in cases {
            assert_eq!(
                page_sql(keys, *after, *backward),
                format!("{SELECT} {tail}"),
                "{keys:?} {after:?} backward={backward}"
            );
        }
    }

    /// The ids of each page, walking with `next` (or `previous`) cursors from `start`, with
    /// whether each page had a next and a previous page.
    async fn walk<T>(
        paginator: &KeysetPaginator<Sqlite, T>,
        start: Option<String>,
        forward: bool,
        id: fn(&T) -> i64,
    ) -> Vec<(Vec<i64>, bool, bool)>
    where
        T: KeysetRow + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + Send + Unpin + 'static,
    {
        let mut pages = Vec::new();
        let mut cursor = start;
        loop {
            let page = paginator.page(cursor.as_deref()).await.unwrap();
            pages.push((
                page.object_list().iter().map(id).collect(),
                page.has_next(),
                page.has_previous(),
            ));
            assert_eq!(page.has_next(), page.next_cursor().is_some());
            assert_eq!(page.has_previous(), page.previous_cursor().is_some());
            let next = if forward {
                page.next_cursor()
            } else {
                page.previous_cursor()
            };
            match next {
                Some(next) => cursor = Some(next.to_owned()),
                None => return pages,
            }
            assert!(pages.len() < 20, "the walk does not end");
        }
    }

    #[tokio::test]
    async fn pages_walk_forward_and_back_over_sqlite() {
        let pool = memory_pool(8).await;
        let by_id = KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), 3)
            .key("id", Order::Asc)
            .cursor_key(test_key());
        let forward = walk(&by_id, None, true, |r| r.id).await;
        assert_eq!(
            forward,
            [
                (vec![1, 2, 3], true, false),
                (vec![4, 5, 6], true, true),
                (vec![7, 8], false, true),
            ]
        );
        // Back from the last page: the same pages, each knowing both neighbours but the first.
        let last = by_id.cursor_after(vec![6.into()]).unwrap();
        let last = by_id.page(Some(&last)).await.unwrap();
        assert_eq!(last.object_list(), [ById { id: 7 }, ById { id: 8 }]);
        let back = walk(
            &by_id,
            last.previous_cursor().map(str::to_owned),
            false,
            |r| r.id,
        )
        .await;
        assert_eq!(
            back,
            [(vec![4, 5, 6], true, true), (vec![1, 2, 3], true, false)]
        );

        // Newest first, on a key of two columns running opposite ways.
        let mixed = KeysetPaginator::<Sqlite, Item>::new(pool.clone(), items(), 3)
            .key("grp", Order::Desc)
            .key("id", Order::Asc)
            .cursor_key(test_key());
        let pages = walk(&mixed, None, true, |r| r.id).await;
        let ids: Vec<Vec<i64>> = pages.into_iter().map(|(ids, ..)| ids).collect();
        assert_eq!(ids, [vec![2, 5, 8], vec![1, 4, 7], vec![3, 6]]);
        let row = mixed.page(None).await.unwrap().into_object_list().remove(1);
        assert_eq!(row, Item { id: 5, grp: 2 });
    }

    #[tokio::test]
    async fn a_page_that_holds_the_rest_exactly_is_the_last() {
        let pool = memory_pool(6).await;
        for (per_page, pages) in [
            (6, vec![(vec![1, 2, 3, 4, 5, 6], false, false)]),
            (
                3,
                vec![(vec![1, 2, 3], true, false), (vec![4, 5, 6], false, true)],
            ),
        ] {
            let paginator = KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), per_page)
                .key("id", Order::Asc);
            assert_eq!(
                walk(&paginator, None, true, |r| r.id).await,
                pages,
                "{per_page}"
            );
        }
    }

    #[tokio::test]
    async fn misconfigured_lists_and_foreign_cursors_are_refused() {
        let pool = memory_pool(4).await;
        let one = KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), 2)
            .key("id", Order::Asc)
            .name("items");
        let two = KeysetPaginator::<Sqlite, Item>::new(pool.clone(), items(), 2)
            .key("grp", Order::Asc)
            .key("id", Order::Asc)
            .name("items");
        // Same list name, another number of key columns.
        let token = one.cursor_after(vec![1.into()]).unwrap();
        assert_eq!(
            cursor_error(two.page(Some(&token)).await),
            "the cursor does not match this list's key columns"
        );
        assert_eq!(one.page(Some(&token)).await.unwrap().object_list()[0].id, 2);
        assert!(matches!(
            one.cursor_after(vec![1.into(), 2.into()]),
            Err(Error::Keyset(_))
        ));
        assert!(two.cursor_after(vec![1.into(), 2.into()]).is_ok());

        let keyless = KeysetPaginator::<Sqlite, ById>::new(pool.clone(), items(), 2);
        assert!(matches!(keyless.page(None).await, Err(Error::Keyset(_))));
        assert!(matches!(
            keyless.cursor_after(vec![]),
            Err(Error::Keyset(_))
        ));

        let sliced = items().limit(2).to_owned();
        let sliced = KeysetPaginator::<Sqlite, ById>::new(pool, sliced, 2).key("id", Order::Asc);
        assert!(matches!(sliced.page(None).await, Err(Error::Keyset(_))));
    }

    #[tokio::test]
    async fn cursors_carry_the_list_they_came_from() {
        let pool = memory_pool(0).await;
        let list = |query: SelectStatement, order: Order| {
            KeysetPaginator::<Sqlite, ById>::new(pool.clone(), query, 2)
                .key("id", order)
                .cursor_key(test_key())
        };
        let filtered = items().and_where(Expr::col("grp").eq(1)).to_owned();
        let ids = [
            list(items(), Order::Asc).list_id(),
            list(items(), Order::Desc).list_id(),
            list(filtered, Order::Asc).list_id(),
        ];
        assert_eq!(ids[0], list(items(), Order::Asc).list_id());
        assert_eq!(ids[0].len(), 16, "{ids:?}");
        assert!(
            ids[0] != ids[1] && ids[0] != ids[2] && ids[1] != ids[2],
            "{ids:?}"
        );
        assert_eq!(list(items(), Order::Asc).name("a").list_id(), "n:a");

        let paginator = list(items(), Order::Asc).name("a");
        let token = paginator.cursor_after(vec![3.into()]).unwrap();
        let payload = decode_cursor_for(&test_key(), &token, "n:a", None).unwrap();
        assert_eq!(
            (payload.d, payload.k),
            (Direction::After, vec![KeyValue::Int(3)])
        );
        let token = paginator.encode("n:a", Direction::Before, vec![4.into()]);
        let payload = decode_cursor_for(&test_key(), &token, "n:a", None).unwrap();
        assert_eq!(
            (payload.d, payload.k),
            (Direction::Before, vec![KeyValue::Int(4)])
        );

        let debug = format!("{paginator:?}");
        assert!(
            debug.starts_with("KeysetPaginator { database: \"SQLite\""),
            "{debug}"
        );
        assert!(
            debug.contains("per_page: 2") && debug.contains("Some(\"a\")"),
            "{debug}"
        );
    }
}

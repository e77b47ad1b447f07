//! Key names and result ids of the Redis queue, and the decoding of what its scripts return.
//!
//! Every key of one queue is `<prefix>:{<queue>}:<name>`, so they share a hash tag and land on
//! one Redis Cluster shard. A queue name is escaped to `[A-Za-z0-9-]` plus `_xx` hex escapes,
//! which holds no brace, colon or dot. A result id is `<uuid>.<escaped queue>`: it says where
//! the task lives, so `get_result(id)` needs nothing else.

use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use redis::Value;

use crate::{Error, Result, TaskError, TaskId, TaskResult, TaskResultStatus};

/// A queue name as it appears in keys and ids.
pub(crate) fn escape(queue: &str) -> String {
    let mut out = String::with_capacity(queue.len());
    for byte in queue.bytes() {
        if byte.is_ascii_alphanumeric() || byte == b'-' {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("_{byte:02x}"));
        }
    }
    out
}

/// The queue name an escaped name stands for; `None` when it is not one [`escape`] makes.
pub(crate) fn unescape(escaped: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(escaped.len());
    let mut rest = escaped.as_bytes();
    while let Some((&first, tail)) = rest.split_first() {
        if first == b'_' {
            let hex = tail.get(..2)?;
            let hex = std::str::from_utf8(hex).ok()?;
            if hex.bytes().any(|b| !matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
                return None;
            }
            let byte = u8::from_str_radix(hex, 16).ok()?;
            // Only what `escape` escapes: one name has one spelling.
            if byte.is_ascii_alphanumeric() || byte == b'-' {
                return None;
            }
            bytes.push(byte);
            rest = &tail[2..];
        } else if first.is_ascii_alphanumeric() || first == b'-' {
            bytes.push(first);
            rest = tail;
        } else {
            return None;
        }
    }
    String::from_utf8(bytes).ok()
}

/// The key base of a queue: `<prefix>:{<escaped queue>}:`.
pub(crate) fn base(prefix: &str, queue: &str) -> String {
    format!("{prefix}:{{{}}}:", escape(queue))
}

/// The result id of a new task: its uuid and its queue.
pub(crate) fn result_id(uuid: &TaskId, queue: &str) -> TaskId {
    TaskId::from(format!("{uuid}.{}", escape(queue)))
}

/// The queue a result id names, or `None` for an id this backend never made.
pub(crate) fn queue_of(id: &str) -> Option<String> {
    let (uuid, queue) = id.split_once('.')?;
    if uuid.is_empty() || !uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-') {
        return None;
    }
    unescape(queue)
}

/// Whether `prefix` can start key names: not empty, and no brace (it would move the hash
/// tag), no NUL, no whitespace.
pub(crate) fn valid_prefix(prefix: &str) -> bool {
    !prefix.is_empty()
        && !prefix
            .chars()
            .any(|c| matches!(c, '{' | '}' | '\0') || c.is_whitespace())
}

/// The text of a reply value (`None` for nil or `false`).
pub(crate) fn text(value: &Value) -> Option<String> {
    match value {
        Value::BulkString(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
        Value::SimpleString(s) => Some(s.clone()),
        Value::Int(n) => Some(n.to_string()),
        Value::Okay => Some("OK".to_owned()),
        _ => None,
    }
}

/// The items of an array reply.
pub(crate) fn items(value: Value) -> Result<Vec<Value>> {
    match value {
        Value::Array(items) | Value::Set(items) => Ok(items),
        Value::Nil => Ok(Vec::new()),
        other => Err(unexpected(&other)),
    }
}

/// An integer reply.
pub(crate) fn integer(value: &Value) -> Result<i64> {
    match value {
        Value::Int(n) => Ok(*n),
        other => text(other)
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| unexpected(other)),
    }
}

/// A reply of a shape the scripts never send.
pub(crate) fn unexpected(value: &Value) -> Error {
    Error::storage(Unexpected(format!("{value:?}")))
}

/// A reply the Redis queue did not expect (its scripts and the server disagree).
#[derive(Debug, thiserror::Error)]
#[error("unexpected reply from Redis: {0:.200}")]
pub(crate) struct Unexpected(String);

/// The hash fields a task is read by, in the order of the scripts' `read()` (see
/// `lua/common.lua`).
pub(crate) const FIELDS: [&str; 13] = [
    "d", "s", "a", "r", "e", "w", "eq", "ra", "st", "f", "la", "u", "md",
];

/// What a task's `d` field holds, written once: its name, backend, queue, timeout (ms),
/// priority and max attempts.
type WrittenOnce = (String, String, String, Option<u64>, i32, u32);

/// Decodes a `read()` row of the scripts: the id, then [`FIELDS`]. `None` when the task's hash
/// is gone (its result expired).
pub(crate) fn decode(row: Value) -> Result<Option<TaskResult>> {
    let row = items(row)?;
    let field = |i: usize| row.get(i).and_then(text);
    let Some(id) = field(0) else {
        return Err(Error::storage(Unexpected("a row without an id".into())));
    };
    // `s` (the status) is always set while the hash exists.
    let Some(status) = field(2) else {
        return Ok(None);
    };
    let required = |i: usize, name: &str| {
        field(i).ok_or_else(|| Error::storage(Unexpected(format!("task {id:.80} has no {name}"))))
    };
    let json = |text: String| serde_json::from_str(&text).map_err(Error::Decode);
    let number = |i: usize| field(i).and_then(|t| t.parse::<i64>().ok());
    let time = |i: usize| number(i).and_then(|us| Utc.timestamp_micros(us).single());
    let (task_name, backend, queue_name, timeout, priority, max_attempts): WrittenOnce =
        serde_json::from_str(&required(1, "name")?).map_err(Error::Decode)?;
    Ok(Some(TaskResult {
        task_name,
        backend,
        queue_name,
        priority,
        status: status.parse::<TaskResultStatus>()?,
        args: json(required(3, "arguments")?)?,
        return_value: field(4).map(json).transpose()?,
        errors: match field(5) {
            Some(errors) => {
                serde_json::from_str::<Vec<TaskError>>(&errors).map_err(Error::Decode)?
            }
            None => Vec::new(),
        },
        worker_ids: match field(6) {
            Some(ids) => serde_json::from_str(&ids).map_err(Error::Decode)?,
            None => Vec::new(),
        },
        max_attempts,
        enqueued_at: time(7).unwrap_or_default(),
        run_after: time(8),
        started_at: time(9),
        finished_at: time(10),
        last_attempted_at: time(11),
        timeout: timeout.map(Duration::from_millis),
        unique_key: field(12),
        metadata: match field(13) {
            Some(metadata) => serde_json::from_str(&metadata).map_err(Error::Decode)?,
            None => serde_json::Map::new(),
        },
        id: TaskId::from(id),
    }))
}

/// Microseconds since the epoch, as the scripts store times.
pub(crate) fn micros(t: DateTime<Utc>) -> String {
    t.timestamp_micros().to_string()
}

/// How far apart a task's id and its enqueue time may be, at most, for the time filters of a
/// listing to find it: the id's UUIDv7 time comes from the enqueuing client's clock when it
/// made the task, the enqueue time from the server's. The listing reads ids within this much
/// of the filter's times and keeps those whose enqueue time matches.
pub(crate) const CLOCK_SLACK_MS: i64 = 5 * 60 * 1000;

/// The text every UUIDv7 made in millisecond `ms` starts with (its 48-bit time, as
/// `xxxxxxxx-xxxx`), clamped to the times a UUIDv7 can hold. Fixed width lowercase hex, so
/// these prefixes sort as their times and before every id of their millisecond.
pub(crate) fn uuid_time_prefix(ms: i64) -> String {
    let ms = ms.clamp(0, (1 << 48) - 1);
    format!("{:08x}-{:04x}", ms >> 16, ms & 0xffff)
}

/// The `ZRANGE … BYLEX` bounds of a listing's ids, newest first: the upper bound (`+`, or
/// `(` then the id or time prefix nothing may reach) and the lower bound (`-`, or `[` then the
/// time prefix from which ids may match). `before` is exclusive, as the filter says; the
/// enqueue times widen by [`CLOCK_SLACK_MS`], and the listing checks them exactly.
pub(crate) fn lex_bounds(
    before: Option<&str>,
    since: Option<DateTime<Utc>>,
    until: Option<DateTime<Utc>>,
) -> (String, String) {
    let until = until.map(|t| uuid_time_prefix(t.timestamp_millis() + CLOCK_SLACK_MS + 1));
    let upper = match (before, until.as_deref()) {
        (Some(before), Some(until)) => Some(before.min(until)),
        (Some(one), None) | (None, Some(one)) => Some(one),
        (None, None) => None,
    };
    let upper = upper.map_or_else(|| "+".to_owned(), |id| format!("({id}"));
    let lower = since.map_or_else(
        || "-".to_owned(),
        |t| {
            format!(
                "[{}",
                uuid_time_prefix(t.timestamp_millis() - CLOCK_SLACK_MS)
            )
        },
    );
    (upper, lower)
}

/// What a task's `d` field starts with when its name is `name`: `["<name as JSON>",`.
pub(crate) fn name_prefix(name: &str) -> Result<String> {
    let name = serde_json::to_string(name).map_err(Error::Decode)?;
    Ok(format!("[{name},"))
}

/// A time the scripts return in microseconds (as an integer or a score's text).
pub(crate) fn time_of(value: &Value) -> Option<DateTime<Utc>> {
    let text = text(value)?;
    let us = match text.parse::<i64>() {
        Ok(us) => us,
        // A sorted-set score may come as a float's text; microseconds are exact in a double
        // until the year 2255.
        #[allow(clippy::cast_possible_truncation)]
        Err(_) => text.parse::<f64>().ok().filter(|us| us.is_finite())? as i64,
    };
    Utc.timestamp_micros(us).single()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queue_names_escape_to_one_spelling_and_back() {
        for (queue, escaped) in [
            ("default", "default"),
            ("emails-high", "emails-high"),
            ("a.b", "a_2eb"),
            ("x_y", "x_5fy"),
            ("{tag}", "_7btag_7d"),
            ("a:b c", "a_3ab_20c"),
            ("é", "_c3_a9"),
            ("", ""),
        ] {
            assert_eq!(escape(queue), escaped, "{queue}");
            assert_eq!(unescape(escaped).as_deref(), Some(queue), "{escaped}");
        }
        // Not spellings `escape` makes: refused, so two ids never name one task.
        for bad in ["_2", "_zz", "_41", "_2E", "a.b", "a b", "_c3"] {
            assert_eq!(unescape(bad), None, "{bad}");
        }
    }

    #[test]
    fn result_ids_carry_their_queue() {
        let uuid = TaskId::from("0190c3a4-0000-7000-8000-000000000000");
        let id = result_id(&uuid, "mail.out");
        assert_eq!(
            id.as_str(),
            "0190c3a4-0000-7000-8000-000000000000.mail_2eout"
        );
        assert_eq!(queue_of(id.as_str()).as_deref(), Some("mail.out"));
        for bad in [
            "",
            "nodot",
            ".default",
            "xyz.default",
            "0190c3a4.bad q",
            "0190.a.b",
        ] {
            assert_eq!(queue_of(bad), None, "{bad}");
        }
        assert_eq!(base("djrs", "mail.out"), "djrs:{mail_2eout}:");
    }

    fn bulk(text: &str) -> Value {
        Value::BulkString(text.as_bytes().to_vec())
    }

    #[test]
    fn replies_read_as_text_lists_and_numbers() {
        assert_eq!(text(&bulk("a")).as_deref(), Some("a"));
        assert_eq!(text(&Value::SimpleString("s".into())).as_deref(), Some("s"));
        assert_eq!(text(&Value::Int(-5)).as_deref(), Some("-5"));
        assert_eq!(text(&Value::Okay).as_deref(), Some("OK"));
        assert_eq!(text(&Value::Nil), None);
        assert_eq!(text(&Value::Array(vec![bulk("a")])), None);

        assert_eq!(
            items(Value::Array(vec![bulk("a"), Value::Int(1)]))
                .unwrap()
                .len(),
            2
        );
        assert_eq!(items(Value::Set(vec![bulk("a")])).unwrap().len(), 1);
        assert!(items(Value::Nil).unwrap().is_empty());
        assert!(items(Value::Int(1)).is_err());

        assert_eq!(integer(&Value::Int(7)).unwrap(), 7);
        assert_eq!(integer(&bulk("-12")).unwrap(), -12);
        assert!(integer(&bulk("x")).is_err());
        assert!(integer(&Value::Nil).is_err());

        let at = Utc.timestamp_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(micros(at), "1700000000123456");
    }

    /// A `read()` row: the id, then [`FIELDS`] (`None` for an unset field).
    fn row(fields: [Option<&str>; 13]) -> Value {
        Value::Array(fields.iter().map(|f| f.map_or(Value::Nil, bulk)).collect())
    }

    #[test]
    fn a_task_row_decodes_into_its_result() {
        let full = row([
            Some("0190.default"),
            Some(r#"["app::send","default","mail",1500,7,3]"#),
            Some("FAILED"),
            Some("[1,\"x\"]"),
            Some("{\"ok\":true}"),
            Some(r#"[{"exception_class_path":"E","message":"m","traceback":"t"}]"#),
            Some(r#"["w1","w2"]"#),
            Some("1700000000000001"),
            Some("1700000000000002"),
            Some("1700000000000003"),
            Some("1700000000000004"),
            Some("1700000000000005"),
            Some("key-1"),
        ]);
        let task = decode(full).unwrap().unwrap();
        assert_eq!(task.id.as_str(), "0190.default");
        assert_eq!(
            (
                task.task_name.as_str(),
                task.backend.as_str(),
                task.queue_name.as_str()
            ),
            ("app::send", "default", "mail")
        );
        assert_eq!(task.timeout, Some(Duration::from_millis(1500)));
        assert_eq!((task.priority, task.max_attempts), (7, 3));
        assert_eq!(task.status, TaskResultStatus::Failed);
        assert_eq!(task.args, serde_json::json!([1, "x"]));
        assert_eq!(task.return_value, Some(serde_json::json!({"ok": true})));
        assert_eq!(task.errors[0].message, "m");
        assert_eq!(task.worker_ids, ["w1", "w2"]);
        let us = |t: Option<chrono::DateTime<Utc>>| t.map(|t| t.timestamp_micros());
        assert_eq!(task.enqueued_at.timestamp_micros(), 1_700_000_000_000_001);
        assert_eq!(
            [
                us(task.run_after),
                us(task.started_at),
                us(task.finished_at),
                us(task.last_attempted_at)
            ],
            [
                Some(1_700_000_000_000_002),
                Some(1_700_000_000_000_003),
                Some(1_700_000_000_000_004),
                Some(1_700_000_000_000_005)
            ]
        );
        assert_eq!(task.unique_key.as_deref(), Some("key-1"));

        // A new task: no errors, no worker ids, no times but the enqueue, no unique key.
        let fresh = row([
            Some("0190.default"),
            Some(r#"["app::send","default","default",null,0,1]"#),
            Some("READY"),
            Some("[]"),
            None,
            None,
            None,
            Some("1700000000000001"),
            None,
            None,
            None,
            None,
            None,
        ]);
        let task = decode(fresh).unwrap().unwrap();
        assert!(task.errors.is_empty() && task.worker_ids.is_empty());
        assert_eq!(
            (task.timeout, task.return_value, task.unique_key),
            (None, None, None)
        );
        assert_eq!(task.run_after, None);

        // Gone (its result expired): no status.
        let mut gone = [None; 13];
        gone[0] = Some("0190.default");
        assert!(decode(row(gone)).unwrap().is_none());
        // Malformed: no id, or no written-once field.
        assert!(decode(row([None; 13])).is_err());
        let mut broken = gone;
        broken[2] = Some("READY");
        broken[3] = Some("[]");
        assert!(decode(row(broken)).is_err());
    }

    #[test]
    fn uuid_time_prefixes_sort_as_their_times_and_before_their_ids() {
        let id = uuid::Uuid::now_v7().to_string();
        let ms = chrono::Utc::now().timestamp_millis();
        // The id was made this millisecond or the one before.
        let made = (ms - 1..=ms)
            .find(|ms| id.starts_with(&uuid_time_prefix(*ms)))
            .expect("a UUIDv7 starts with its time");
        assert!(uuid_time_prefix(made).as_str() < id.as_str());
        assert!(uuid_time_prefix(made + 1).as_str() > id.as_str());
        for (ms, prefix) in [
            (0, "00000000-0000"),
            (-5, "00000000-0000"),
            (0x0190_c3a4_1234, "0190c3a4-1234"),
            (1 << 48, "ffffffff-ffff"),
        ] {
            assert_eq!(uuid_time_prefix(ms), prefix, "{ms}");
        }
        assert!(uuid_time_prefix(0x0190_c3a4_ffff) < uuid_time_prefix(0x0190_c3a5_0000));
    }

    #[test]
    fn listing_bounds_take_the_tighter_end_and_widen_times_by_the_slack() {
        let at = |ms: i64| Utc.timestamp_millis_opt(ms).unwrap();
        let t = 0x0190_c3a4_0000_i64;
        let id = "0190c3a4-0000-7000-8000-000000000000.default";
        for (before, since, until, upper, lower) in [
            (None, None, None, "+".to_owned(), "-".to_owned()),
            (Some(id), None, None, format!("({id}"), "-".to_owned()),
            (
                None,
                Some(at(t)),
                None,
                "+".to_owned(),
                format!("[{}", uuid_time_prefix(t - CLOCK_SLACK_MS)),
            ),
            // An id older than the time bound: the id bounds.
            (
                Some(id),
                None,
                Some(at(t + 10)),
                format!("({id}"),
                "-".to_owned(),
            ),
            // A time bound older than the id: the time bounds.
            (
                Some(id),
                None,
                Some(at(t - 2 * CLOCK_SLACK_MS)),
                format!("({}", uuid_time_prefix(t - CLOCK_SLACK_MS + 1)),
                "-".to_owned(),
            ),
        ] {
            assert_eq!(lex_bounds(before, since, until), (upper, lower));
        }
    }

    #[test]
    fn a_name_prefix_is_how_the_written_once_field_starts() {
        let written =
            serde_json::to_string(&("app::send \"x\"", "default", "q", None::<u64>, 0, 1)).unwrap();
        assert!(written.starts_with(&name_prefix("app::send \"x\"").unwrap()));
        assert!(!written.starts_with(&name_prefix("app::send").unwrap()));
    }

    #[test]
    fn script_times_read_as_integers_or_scores() {
        let at = Utc.timestamp_micros(1_700_000_000_123_456).unwrap();
        assert_eq!(time_of(&bulk("1700000000123456")), Some(at));
        assert_eq!(time_of(&Value::Int(1_700_000_000_123_456)), Some(at));
        assert_eq!(time_of(&bulk("1.700000000123456e15")), Some(at));
        assert_eq!(time_of(&bulk("x")), None);
        assert_eq!(time_of(&bulk("inf")), None);
        assert_eq!(time_of(&Value::Nil), None);
    }

    #[test]
    fn prefixes_that_would_move_the_hash_tag_are_refused() {
        assert!(valid_prefix("djrs"));
        assert!(valid_prefix("app:tasks"));
        for bad in ["", "a{b", "a}b", "a b", "a\0b", "a\nb"] {
            assert!(!valid_prefix(bad), "{bad:?}");
        }
    }
}

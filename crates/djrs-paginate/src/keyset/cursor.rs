//! [`CursorKey`] and the cursor codec: payloads signed with HMAC-SHA-256, bound to their list,
//! and refused with [`Error::InvalidCursor`](crate::Error::InvalidCursor) when malformed,
//! tampered with, foreign or expired.

use super::*;

/// The secret that signs cursors. Share one across processes that serve the same lists.
///
/// ```
/// use djrs_paginate::CursorKey;
///
/// let key = CursorKey::try_new(b"a secret of at least 32 bytes, from config")?;
/// let random = CursorKey::random(); // valid only for paginators given this key
/// let process = CursorKey::process(); // shared by every paginator of this process
/// assert!(CursorKey::try_new(b"short").is_err());
/// # let _ = (key, random);
/// # Ok::<(), djrs_paginate::Error>(())
/// ```
#[derive(Clone)]
pub struct CursorKey(pub(super) Vec<u8>);

impl CursorKey {
    /// The shortest secret [`CursorKey::try_new`] accepts: 32 bytes, the size of the HMAC-SHA-256
    /// output.
    pub const MIN_LEN: usize = 32;

    /// A key from secret bytes. Use at least [`CursorKey::MIN_LEN`] random bytes: a shorter
    /// secret is accepted (for tests) but logged as an error, since anyone who guesses it can
    /// forge cursors. [`CursorKey::try_new`] refuses it instead.
    ///
    /// ```
    /// let key = djrs_paginate::CursorKey::new([7u8; 32]);
    /// # let _ = key;
    /// ```
    #[must_use]
    pub fn new(secret: impl AsRef<[u8]>) -> Self {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_LEN {
            tracing::error!(
                len = secret.len(),
                min = Self::MIN_LEN,
                "a cursor key shorter than 32 bytes can be guessed and cursors forged; use 32 random bytes"
            );
        }
        CursorKey(secret.to_vec())
    }

    /// A key from secret bytes, refusing secrets shorter than [`CursorKey::MIN_LEN`].
    ///
    /// # Errors
    /// [`Error::WeakCursorKey`] for a secret under 32 bytes.
    ///
    /// ```
    /// use djrs_paginate::{CursorKey, Error};
    ///
    /// assert!(matches!(CursorKey::try_new("a"), Err(Error::WeakCursorKey { len: 1, .. })));
    /// assert!(CursorKey::try_new("x".repeat(32)).is_ok());
    /// ```
    pub fn try_new(secret: impl AsRef<[u8]>) -> Result<Self> {
        let secret = secret.as_ref();
        if secret.len() < Self::MIN_LEN {
            return Err(Error::WeakCursorKey {
                len: secret.len(),
                min: Self::MIN_LEN,
            });
        }
        Ok(CursorKey(secret.to_vec()))
    }

    /// A fresh random key: cursors it signs are valid only for paginators that share it.
    ///
    /// ```
    /// use djrs_paginate::{CursorKey, Error, KeyValue, KeysetPaginator, KeysetRow};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    /// # #[derive(Debug, sqlx::FromRow)]
    /// # struct Article { id: i64, title: String }
    /// # impl KeysetRow for Article {
    /// #     fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] }
    /// # }
    /// # fn articles() -> sea_query::SelectStatement {
    /// #     Query::select().columns(["id", "title"]).from("article").to_owned()
    /// # }
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// let one = KeysetPaginator::<Sqlite, Article>::new(pool.clone(), articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::random());
    /// let other = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::random());
    ///
    /// let next = one.page(None).await?.next_cursor().unwrap().to_owned();
    /// assert_eq!(one.page(Some(&next)).await?.object_list()[0].id, 3);
    /// assert!(matches!(other.page(Some(&next)).await, Err(Error::InvalidCursor(_))));
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn random() -> Self {
        let mut bytes = vec![0u8; 32];
        rand::fill(&mut bytes[..]);
        CursorKey(bytes)
    }

    /// This process's random key, made on first use: every paginator built without
    /// [`KeysetPaginator::cursor_key`] uses it, so cursors stay valid across requests until the
    /// process restarts. Give several processes one [`CursorKey::new`] instead.
    ///
    /// ```
    /// use djrs_paginate::{CursorKey, KeyValue, KeysetPaginator, KeysetRow};
    /// use sea_query::{Order, Query};
    /// use sqlx::Sqlite;
    /// # #[derive(Debug, sqlx::FromRow)]
    /// # struct Article { id: i64, title: String }
    /// # impl KeysetRow for Article {
    /// #     fn key_values(&self) -> Vec<KeyValue> { vec![self.id.into()] }
    /// # }
    /// # fn articles() -> sea_query::SelectStatement {
    /// #     Query::select().columns(["id", "title"]).from("article").to_owned()
    /// # }
    ///
    /// # #[cfg(feature = "sqlite")]
    /// # tokio_test::block_on(async {
    /// # let pool = sqlx::SqlitePool::connect("sqlite::memory:").await.unwrap();
    /// # sqlx::query("CREATE TABLE article (id INTEGER PRIMARY KEY, title TEXT NOT NULL)")
    /// #     .execute(&pool).await.unwrap();
    /// # sqlx::query("INSERT INTO article (title) VALUES ('a'), ('b'), ('c'), ('d'), ('e')")
    /// #     .execute(&pool).await.unwrap();
    /// // Without `.cursor_key(…)`, a paginator signs with the process key.
    /// let default = KeysetPaginator::<Sqlite, Article>::new(pool.clone(), articles(), 2)
    ///     .key("id", Order::Asc);
    /// let explicit = KeysetPaginator::<Sqlite, Article>::new(pool, articles(), 2)
    ///     .key("id", Order::Asc)
    ///     .cursor_key(CursorKey::process());
    ///
    /// let next = default.page(None).await?.next_cursor().unwrap().to_owned();
    /// assert_eq!(explicit.page(Some(&next)).await?.object_list()[0].id, 3);
    /// # Ok::<(), djrs_paginate::Error>(())
    /// # }).unwrap();
    /// ```
    #[must_use]
    pub fn process() -> Self {
        static PROCESS_KEY: std::sync::OnceLock<CursorKey> = std::sync::OnceLock::new();
        PROCESS_KEY.get_or_init(CursorKey::random).clone()
    }

    pub(super) fn mac(&self, payload: &[u8]) -> Hmac<Sha256> {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.0)
            .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
        mac.update(payload);
        mac
    }
}

impl fmt::Debug for CursorKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CursorKey(..)")
    }
}

pub(super) const TAG_LEN: usize = 16;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Direction {
    #[serde(rename = "a")]
    After,
    #[serde(rename = "b")]
    Before,
}

#[derive(Debug, Serialize, Deserialize)]
pub(super) struct CursorPayload {
    /// Which way from the key.
    pub(super) d: Direction,
    /// The key values.
    pub(super) k: Vec<KeyValue>,
    /// The list the cursor belongs to: its name or a fingerprint of its query and key.
    pub(super) l: String,
    /// When it was signed, in seconds since the Unix epoch.
    pub(super) t: u64,
}

pub(super) fn now_unix() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

pub(super) fn encode_cursor(key: &CursorKey, payload: &CursorPayload) -> String {
    let json = serde_json::to_vec(payload).unwrap_or_default();
    let tag = key.mac(&json).finalize().into_bytes();
    format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(&json),
        URL_SAFE_NO_PAD.encode(&tag[..TAG_LEN])
    )
}

pub(super) fn decode_cursor(key: &CursorKey, token: &str) -> Result<CursorPayload> {
    if token.len() > 4096 {
        return Err(Error::InvalidCursor("the cursor is too long"));
    }
    let (body, tag) = token
        .split_once('.')
        .ok_or(Error::InvalidCursor("the cursor has no signature"))?;
    let json = URL_SAFE_NO_PAD
        .decode(body)
        .map_err(|_| Error::InvalidCursor("the cursor is not base64url"))?;
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| Error::InvalidCursor("the cursor signature is not base64url"))?;
    if tag.len() != TAG_LEN {
        return Err(Error::InvalidCursor(
            "the cursor signature has the wrong length",
        ));
    }
    key.mac(&json)
        .verify_truncated_left(&tag)
        .map_err(|_| Error::InvalidCursor("the cursor signature does not match"))?;
    serde_json::from_slice(&json)
        .map_err(|_| Error::InvalidCursor("the cursor payload is malformed"))
}

/// Decodes `token` and checks that it belongs to `list` and is not older than `max_age`.
pub(super) fn decode_cursor_for(
    key: &CursorKey,
    token: &str,
    list: &str,
    max_age: Option<std::time::Duration>,
) -> Result<CursorPayload> {
    let payload = decode_cursor(key, token)?;
    if payload.l != list {
        return Err(Error::InvalidCursor("the cursor belongs to another list"));
    }
    if let Some(max_age) = max_age {
        let age = now_unix().saturating_sub(payload.t);
        if age > max_age.as_secs() {
            return Err(Error::InvalidCursor("the cursor has expired"));
        }
    }
    Ok(payload)
}

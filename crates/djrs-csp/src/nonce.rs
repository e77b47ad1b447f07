//! `CspNonce`: the lazy per-request nonce (Django's `LazyNonce`, `request.csp_nonce`).

use std::cell::Cell;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use pin_project_lite::pin_project;
use rand::Rng as _;

/// Length of a nonce: 16 random bytes in base64url without padding.
pub const NONCE_LEN: usize = 22;

/// One request's nonce, sent in the header only once used: 16 bytes (128 bits) from a CSPRNG, base64url
/// without padding (22 characters), the shape of Django's `secrets.token_urlsafe(16)`. The
/// bytes come from the thread's generator, rand's `ThreadRng` (ChaCha12, seeded from the
/// operating system and reseeded from it every 64 KiB), not from one system call per nonce;
/// a process that forks must not make nonces on both sides of the fork without `exec` (or
/// `rand::rng().reseed()` in the child).
///
/// Clones share the value. The middleware runs each request's handler inside the request's
/// nonce scope: handlers take the nonce with the axum extractor (feature `axum`), other tower
/// services with [`CspNonce::current`], and templates print it with `csp_nonce()` (feature
/// `tera`). Only when [`as_str`](Self::as_str) was called does the header get `'nonce-…'`
/// (Django's rule: an unused [`CspSource::NONCE`](crate::CspSource::NONCE) disappears).
///
/// ```
/// use djrs_csp::CspNonce;
///
/// let nonce = CspNonce::new();
/// assert!(!nonce.is_generated());
/// let value = nonce.as_str().to_owned();
/// assert_eq!(value.len(), 22);
/// assert!(value.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
/// // Clones share the value.
/// assert_eq!(nonce.clone().as_str(), value);
/// assert!(nonce.is_generated());
/// ```
#[derive(Clone)]
pub struct CspNonce {
    inner: Arc<Inner>,
}

/// What the clones of a nonce share: its value, made with the handle, and whether it was used.
struct Inner {
    value: Encoded,
    used: AtomicBool,
}

/// A nonce's characters, aligned so that their UTF-8 check reads whole words.
#[derive(Clone, Copy)]
#[repr(align(8))]
struct Encoded([u8; NONCE_LEN]);

impl CspNonce {
    /// A new nonce, not used yet. Its value is drawn now, but nothing reads it until
    /// [`as_str`](Self::as_str) (a request only gets a handle when its handler or a template
    /// asks for one, so a request that never asks draws nothing).
    ///
    /// # Panics
    /// When the operating system's random source fails while the thread's generator is
    /// seeded or reseeded (`getrandom(2)` returning an error), which Linux, macOS and Windows
    /// do not do once booted. A page must not be served with a guessable nonce, so there is no
    /// fallback.
    ///
    /// ```
    /// use djrs_csp::CspNonce;
    ///
    /// let nonce = CspNonce::new();
    /// assert!(!nonce.is_generated());
    /// assert_eq!(nonce.get(), None);
    /// // Two nonces are drawn independently.
    /// assert_ne!(nonce.as_str(), CspNonce::new().as_str());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        CspNonce {
            inner: Arc::new(Inner {
                value: encode(random_128()),
                used: AtomicBool::new(false),
            }),
        }
    }

    /// The nonce; from the first call on, it is used, and the header carries it.
    ///
    /// ```
    /// use djrs_csp::{CspNonce, NONCE_LEN};
    ///
    /// let nonce = CspNonce::new();
    /// let value = nonce.as_str().to_owned();
    /// assert_eq!(value.len(), NONCE_LEN);
    /// // Later calls return the same value.
    /// assert_eq!(nonce.as_str(), value);
    /// // `Display` writes the same value.
    /// assert_eq!(nonce.to_string(), value);
    /// ```
    #[must_use]
    pub fn as_str(&self) -> &str {
        // Relaxed: the value never changes, and the layer reads the flag after the handler's
        // response reached it, which orders the two.
        self.inner.used.store(true, Ordering::Relaxed);
        ascii(&self.inner.value)
    }

    /// The nonce if it was used, without using it.
    ///
    /// ```
    /// use djrs_csp::CspNonce;
    ///
    /// let nonce = CspNonce::new();
    /// assert_eq!(nonce.get(), None);
    /// let value = nonce.as_str().to_owned();
    /// assert_eq!(nonce.get(), Some(value.as_str()));
    /// ```
    #[must_use]
    pub fn get(&self) -> Option<&str> {
        self.is_generated().then(|| ascii(&self.inner.value))
    }

    /// The nonce's characters if it was used: [`get`](Self::get) without the UTF-8 check, for
    /// the header.
    #[cfg(feature = "tower")]
    pub(crate) fn bytes(&self) -> Option<&[u8]> {
        self.is_generated().then_some(&self.inner.value.0[..])
    }

    /// Whether the nonce was used, read with [`as_str`](Self::as_str) or `Display` (Django's
    /// lazy nonce evaluated): only then does the header carry it.
    ///
    /// ```
    /// use djrs_csp::CspNonce;
    ///
    /// let nonce = CspNonce::new();
    /// assert!(!nonce.is_generated());
    /// let _ = nonce.as_str();
    /// assert!(nonce.is_generated());
    /// ```
    #[must_use]
    pub fn is_generated(&self) -> bool {
        self.inner.used.load(Ordering::Relaxed)
    }

    /// Runs `f` with this nonce as the thread's current nonce, for code that cannot be handed
    /// the nonce, such as the `csp_nonce()` template function (feature `tera`) rendering on
    /// another thread than the request's (`spawn_blocking`). Scopes nest; the previous nonce is
    /// restored when `f` returns or unwinds.
    ///
    /// ```
    /// use djrs_csp::CspNonce;
    ///
    /// let nonce = CspNonce::new();
    /// let seen = nonce.scope(|| CspNonce::current().map(|n| n.as_str().to_owned()));
    /// assert_eq!(seen.as_deref(), Some(nonce.as_str()));
    /// assert!(CspNonce::current().is_none());
    /// ```
    pub fn scope<R>(&self, f: impl FnOnce() -> R) -> R {
        let _restore = Restore(swap(Current::Nonce(self.clone())));
        f()
    }

    /// Wraps a future so that each of its polls runs inside [`scope`](Self::scope): templates
    /// rendered anywhere in it (synchronously, on its task) see this nonce. For a task the
    /// handler spawns, which runs outside the request's scope.
    ///
    /// ```
    /// use djrs_csp::CspNonce;
    ///
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// let nonce = CspNonce::new();
    /// let seen = nonce
    ///     .clone()
    ///     .scoped(async { CspNonce::current().map(|n| n.as_str().to_owned()) })
    ///     .await;
    /// assert_eq!(seen.as_deref(), Some(nonce.as_str()));
    /// # }
    /// ```
    pub fn scoped<F: Future>(self, future: F) -> Scoped<F> {
        Scoped {
            nonce: self,
            future,
        }
    }

    /// The nonce of the innermost scope on this thread, if any: a [`scope`](Self::scope), or
    /// the request a [`CspLayer`] or [`CspOverride`] is handling when its policy holds
    /// [`CspSource::NONCE`](crate::CspSource::NONCE) (those run each poll of the handler inside
    /// the request's scope). A request's nonce handle is made on the first call and shared by
    /// the later ones; like every handle, the header carries it only when it is used.
    ///
    /// [`CspLayer`]: crate::CspLayer
    /// [`CspOverride`]: crate::CspOverride
    ///
    /// ```
    /// use djrs_csp::CspNonce;
    ///
    /// assert!(CspNonce::current().is_none());
    /// let outer = CspNonce::new();
    /// let inner = CspNonce::new();
    /// outer.scope(|| {
    ///     assert_eq!(CspNonce::current().unwrap().as_str(), outer.as_str());
    ///     inner.scope(|| assert_eq!(CspNonce::current().unwrap().as_str(), inner.as_str()));
    ///     // The outer scope's nonce is back.
    ///     assert_eq!(CspNonce::current().unwrap().as_str(), outer.as_str());
    /// });
    /// assert!(CspNonce::current().is_none());
    /// ```
    #[must_use]
    pub fn current() -> Option<CspNonce> {
        CURRENT
            .try_with(|cell| {
                let nonce = match cell.take() {
                    Current::Outside => return None,
                    #[cfg(feature = "tower")]
                    Current::Pending => CspNonce::new(),
                    Current::Nonce(nonce) => nonce,
                };
                cell.set(Current::Nonce(nonce.clone()));
                Some(nonce)
            })
            .ok()
            .flatten()
    }
}

pin_project! {
    /// A future whose polls run inside a nonce's [`scope`](CspNonce::scope); made by
    /// [`CspNonce::scoped`].
    #[derive(Debug)]
    #[must_use = "futures do nothing unless polled"]
    pub struct Scoped<F> {
        nonce: CspNonce,
        #[pin]
        future: F,
    }
}

impl<F: Future> Future for Scoped<F> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let future = this.future;
        this.nonce.scope(|| future.poll(cx))
    }
}

/// What the thread's innermost nonce scope holds.
#[derive(Debug, Default)]
enum Current {
    /// No scope.
    #[default]
    Outside,
    /// A request's scope whose nonce nobody asked for yet: [`CspNonce::current`] makes it.
    #[cfg(feature = "tower")]
    Pending,
    /// A scope and its nonce.
    Nonce(CspNonce),
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(Current::Outside) };
}

/// Makes `current` the thread's scope and returns the one it replaces (`Outside` while the
/// thread's locals are being destroyed, when there is no scope to keep).
fn swap(current: Current) -> Current {
    CURRENT
        .try_with(|cell| cell.replace(current))
        .unwrap_or_default()
}

/// Puts the previous scope back when a scope ends.
struct Restore(Current);

impl Drop for Restore {
    fn drop(&mut self) {
        swap(std::mem::take(&mut self.0));
    }
}

/// One request's nonce scope, held by the response futures of the CSP services whose policies
/// hold the nonce: each poll of the inner service runs inside it ([`enter`](Self::enter)), so
/// the `CspNonce` extractor, [`CspNonce::current`] and the templates' `csp_nonce()` find the
/// request's nonce without it travelling on the request. Nothing is allocated until one of
/// them asks for the nonce.
#[cfg(feature = "tower")]
#[derive(Debug)]
pub(crate) struct RequestScope {
    current: Current,
}

#[cfg(feature = "tower")]
impl RequestScope {
    /// A scope whose nonce is made when first asked for.
    pub(crate) fn new() -> Self {
        RequestScope {
            current: Current::Pending,
        }
    }

    /// Runs `f` (one poll of the inner service's future) inside this scope. Inside another
    /// request's scope (a route's `CspOverride` within the `CspLayer`) the outer scope stays
    /// current, so both share one nonce, and this one keeps that nonce when `f` made it.
    #[inline]
    pub(crate) fn enter<R>(&mut self, f: impl FnOnce() -> R) -> R {
        match swap(std::mem::take(&mut self.current)) {
            Current::Outside => {
                let _exit = Exit(&mut self.current);
                f()
            }
            outer => {
                self.current = swap(outer);
                let result = f();
                let made = CURRENT.try_with(|cell| {
                    let current = cell.take();
                    let nonce = match &current {
                        Current::Nonce(nonce) => Some(nonce.clone()),
                        Current::Outside | Current::Pending => None,
                    };
                    cell.set(current);
                    nonce
                });
                if let Ok(Some(nonce)) = made {
                    self.current = Current::Nonce(nonce);
                }
                result
            }
        }
    }

    /// Runs `f` inside `scope` when there is one ([`enter`](Self::enter)), else as it is.
    #[inline]
    pub(crate) fn enter_if<R>(scope: Option<&mut Self>, f: impl FnOnce() -> R) -> R {
        match scope {
            Some(scope) => scope.enter(f),
            None => f(),
        }
    }

    /// The request's nonce, if one was asked for.
    pub(crate) fn nonce(&self) -> Option<&CspNonce> {
        match &self.current {
            Current::Nonce(nonce) => Some(nonce),
            Current::Outside | Current::Pending => None,
        }
    }

    /// The request's nonce, if one was asked for, taken out of the scope.
    pub(crate) fn into_nonce(self) -> Option<CspNonce> {
        match self.current {
            Current::Nonce(nonce) => Some(nonce),
            Current::Outside | Current::Pending => None,
        }
    }
}

/// Takes a request's scope back from the thread when its poll ends or unwinds.
#[cfg(feature = "tower")]
struct Exit<'a>(&'a mut Current);

#[cfg(feature = "tower")]
impl Drop for Exit<'_> {
    fn drop(&mut self) {
        *self.0 = swap(Current::Outside);
    }
}

impl Default for CspNonce {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for CspNonce {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The value is a secret of the response; do not leak it into logs.
        let state = if self.is_generated() {
            "used"
        } else {
            "not used"
        };
        f.debug_tuple("CspNonce").field(&state).finish()
    }
}

/// 128 bits from the thread's CSPRNG: rand's `ThreadRng`, ChaCha12 seeded from the operating
/// system and reseeded from it every 64 KiB of output. On this project's 2-core VM one
/// `getrandom(2)` call costs about 420 ns and a batch of 1 KiB read from the OS still cost
/// about 45 ns per nonce; the thread's generator costs a few.
fn random_128() -> u128 {
    rand::rng().random()
}

/// The base64url alphabet (RFC 4648 §5), as `secrets.token_urlsafe` uses.
const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The 16 big-endian bytes of `bits` in base64url without padding: each character is six bits
/// read from the most significant end, the last one padded with four zero bits. Written out
/// because the general encoder costs more than the random bytes for 16 bytes; in two 64-bit
/// halves, whose shifts are single instructions.
fn encode(bits: u128) -> Encoded {
    let (high, low) = ((bits >> 64) as u64, bits as u64);
    let char = |sextet: u64| ALPHABET[(sextet & 0x3f) as usize];
    let mut out = [0_u8; NONCE_LEN];
    // Characters 0 to 9: the high half's bits 63 to 4.
    for (i, slot) in out[..10].iter_mut().enumerate() {
        *slot = char(high >> (58 - 6 * i));
    }
    // Character 10: the high half's last four bits and the low half's first two.
    out[10] = char((high << 2) | (low >> 62));
    // Characters 11 to 20: the low half's bits 61 to 2.
    for (i, slot) in out[11..21].iter_mut().enumerate() {
        *slot = char(low >> (56 - 6 * i));
    }
    // Character 21: the low half's last two bits and four zero bits.
    out[21] = char(low << 4);
    Encoded(out)
}

fn ascii(encoded: &Encoded) -> &str {
    // base64url output is ASCII, so this never fails.
    std::str::from_utf8(&encoded.0).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_distinct_and_url_safe() {
        let values: std::collections::HashSet<String> = (0..200)
            .map(|_| CspNonce::new().as_str().to_owned())
            .collect();
        assert_eq!(values.len(), 200);
        for value in &values {
            assert_eq!(value.len(), NONCE_LEN);
            assert!(
                value
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
            );
        }
    }

    #[test]
    fn used_on_first_read_only() {
        let nonce = CspNonce::new();
        assert!(!nonce.is_generated());
        assert_eq!(nonce.get(), None);
        let value = nonce.as_str().to_owned();
        assert!(nonce.is_generated());
        assert_eq!(nonce.get(), Some(value.as_str()));
        assert_eq!(nonce.as_str(), value);
        assert_eq!(format!("{nonce:?}"), "CspNonce(\"used\")");
    }

    #[test]
    fn encodes_as_base64url_without_padding() {
        use base64::Engine as _;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;

        let mut cases: Vec<[u8; 16]> = vec![[0; 16], [0xff; 16], *b"0123456789abcdef"];
        cases.extend((0..=255_u8).map(|b| std::array::from_fn(|i| b.wrapping_mul(31) ^ i as u8)));
        cases.extend((0..200).map(|_| random_128().to_be_bytes()));
        cases.extend((0..128).map(|bit| (1_u128 << bit).to_be_bytes()));
        for bytes in cases {
            let encoded = encode(u128::from_be_bytes(bytes));
            assert_eq!(ascii(&encoded), URL_SAFE_NO_PAD.encode(bytes), "{bytes:?}");
        }
        // Both characters of the last byte: its top six bits, then its low two bits.
        assert_eq!(&encode(u128::MAX).0[20..], b"_w");
        assert_eq!(&encode(0).0[..], b"AAAAAAAAAAAAAAAAAAAAAA");
    }

    #[test]
    fn random_bytes_are_not_repeated() {
        let seen: std::collections::HashSet<u128> = (0..10_000).map(|_| random_128()).collect();
        assert_eq!(seen.len(), 10_000);
    }

    #[test]
    fn scoped_futures_see_the_nonce_while_polled() {
        let nonce = CspNonce::new();
        let future = nonce
            .clone()
            .scoped(async { CspNonce::current().map(|n| n.as_str().to_owned()) });
        let mut future = std::pin::pin!(future);
        let mut cx = Context::from_waker(std::task::Waker::noop());
        assert_eq!(
            future.as_mut().poll(&mut cx),
            Poll::Ready(Some(nonce.as_str().to_owned()))
        );
        assert!(CspNonce::current().is_none());
    }

    #[test]
    fn debug_does_not_leak_the_value() {
        let nonce = CspNonce::new();
        assert_eq!(format!("{nonce:?}"), "CspNonce(\"not used\")");
        let value = nonce.as_str().to_owned();
        assert!(!format!("{nonce:?}").contains(&value));
        assert_eq!(nonce.to_string(), value);
    }

    #[test]
    fn scopes_nest_and_restore() {
        let outer = CspNonce::new();
        let inner = CspNonce::new();
        outer.scope(|| {
            inner.scope(|| assert_eq!(CspNonce::current().unwrap().as_str(), inner.as_str()));
            assert_eq!(CspNonce::current().unwrap().as_str(), outer.as_str());
        });
        assert!(CspNonce::current().is_none());
        let caught = std::panic::catch_unwind(|| outer.scope(|| panic!("boom")));
        assert!(caught.is_err());
        assert!(CspNonce::current().is_none());
    }
}

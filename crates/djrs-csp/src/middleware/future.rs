//! Response futures of the CSP services.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use super::{Config, Overrides};
use crate::CspNonce;
use std::sync::Arc;

pin_project! {
    /// The response future of [`Csp`](super::Csp): sets the CSP headers on the inner
    /// service's response.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        pub(super) inner: F,
        pub(super) config: Arc<Config>,
        pub(super) nonce: Option<CspNonce>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        this.config.apply(&mut response, this.nonce.as_ref());
        Poll::Ready(Ok(response))
    }
}

pin_project! {
    /// The response future of [`CspOverrideService`](super::CspOverrideService): records the
    /// route's policies on the response for the outer [`CspLayer`](super::CspLayer).
    #[derive(Debug)]
    pub struct OverrideFuture<F> {
        #[pin]
        pub(super) inner: F,
        pub(super) overrides: Overrides,
    }
}

impl<F, B, E> Future for OverrideFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut response = ready!(this.inner.poll(cx))?;
        this.overrides.record(response.extensions_mut());
        Poll::Ready(Ok(response))
    }
}

//! Response futures of the CSP services.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::Response;
use pin_project_lite::pin_project;

use super::{Overrides, Pending};
use crate::nonce::RequestScope;

pin_project! {
    /// The response future of [`Csp`](super::Csp): sets the CSP headers on the inner
    /// service's response.
    #[derive(Debug)]
    pub struct ResponseFuture<F> {
        #[pin]
        pub(super) inner: F,
        pub(super) pending: Option<Pending>,
        // The request's nonce scope, when the layer's policies hold the nonce.
        pub(super) scope: Option<RequestScope>,
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = RequestScope::enter_if(this.scope.as_mut(), || inner.poll(cx));
        let mut response = ready!(polled)?;
        if let Some(pending) = this.pending.take() {
            let scope = this.scope.take();
            pending.apply(&mut response, scope.as_ref());
        }
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
        // The route's nonce scope, when its policies hold the nonce.
        pub(super) scope: Option<RequestScope>,
    }
}

impl<F, B, E> Future for OverrideFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = F::Output;

    #[inline]
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let inner = this.inner;
        let polled = RequestScope::enter_if(this.scope.as_mut(), || inner.poll(cx));
        let mut response = ready!(polled)?;
        this.overrides.nonce = this.scope.take().and_then(RequestScope::into_nonce);
        this.overrides.record(response.extensions_mut());
        Poll::Ready(Ok(response))
    }
}

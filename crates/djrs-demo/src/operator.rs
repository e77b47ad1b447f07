//! The showcase's operator: one fixed account that may use the task console at `/tasks`
//! (`--operator NAME:PASSWORD` or `DJRS_DEMO_OPERATOR`; without either, `operator` with a
//! random password printed at start). Signing in sets an `HttpOnly`, `SameSite=Strict` session
//! cookie kept in memory; the console's authorization hook and a redirect to the login page
//! guard every console request, so no task argument is shown without it.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use axum::extract::{Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::{Form, Router};
use serde::Deserialize;

use crate::{AppState, Error};

/// The session cookie's name.
const COOKIE: &str = "djrs_demo_operator";

/// The operator account and its signed-in sessions.
pub struct Operator {
    name: String,
    password: String,
    sessions: Mutex<HashSet<String>>,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

impl Operator {
    /// The account `name` with `password`.
    ///
    /// # Errors
    /// When either is empty or the password is shorter than 8 characters.
    pub fn new(name: &str, password: &str) -> Result<Self, Error> {
        if name.is_empty() || password.chars().count() < 8 {
            return Err(Error::Operator(
                "the operator needs a name and a password of at least 8 characters".to_owned(),
            ));
        }
        Ok(Operator {
            name: name.to_owned(),
            password: password.to_owned(),
            sessions: Mutex::new(HashSet::new()),
        })
    }

    /// The account from `NAME:PASSWORD`.
    ///
    /// # Errors
    /// When there is no colon, or as [`Operator::new`].
    pub fn parse(spec: &str) -> Result<Self, Error> {
        let (name, password) = spec
            .split_once(':')
            .ok_or_else(|| Error::Operator("the operator is given as NAME:PASSWORD".to_owned()))?;
        Operator::new(name, password)
    }

    /// `operator` with a random password (printed by the binary).
    #[must_use]
    pub fn random() -> Self {
        Operator {
            name: "operator".to_owned(),
            password: token(),
            sessions: Mutex::new(HashSet::new()),
        }
    }

    /// The account's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The account's password (to print when it was made up).
    #[must_use]
    pub fn password(&self) -> &str {
        &self.password
    }

    /// Whether a request carries a session of this operator.
    #[must_use]
    pub fn signed_in(&self, headers: &HeaderMap) -> bool {
        let Some(session) = session_of(headers) else {
            return false;
        };
        self.sessions
            .lock()
            .is_ok_and(|sessions| sessions.contains(session))
    }

    /// Checks the credentials (in time independent of where they differ) and opens a session.
    fn sign_in(&self, name: &str, password: &str) -> Option<String> {
        let name_ok = same(name.as_bytes(), self.name.as_bytes());
        let password_ok = same(password.as_bytes(), self.password.as_bytes());
        if !(name_ok & password_ok) {
            return None;
        }
        let session = token();
        self.sessions.lock().ok()?.insert(session.clone());
        Some(session)
    }

    fn sign_out(&self, headers: &HeaderMap) {
        if let (Some(session), Ok(mut sessions)) = (session_of(headers), self.sessions.lock()) {
            sessions.remove(session);
        }
    }
}

/// 256 random bits as hex.
fn token() -> String {
    format!(
        "{}{}",
        uuid::Uuid::new_v4().simple(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Equality of two byte strings in time that depends on their lengths only.
fn same(a: &[u8], b: &[u8]) -> bool {
    let mut differ = a.len() ^ b.len();
    for (x, y) in a.iter().zip(b) {
        differ |= usize::from(x ^ y);
    }
    differ == 0
}

/// The session cookie's value.
fn session_of(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// Where to go after signing in: a console address, or the console.
fn next_or_console(next: Option<&str>) -> String {
    match next {
        Some(next)
            if (next == "/tasks" || next.starts_with("/tasks/") || next.starts_with("/tasks?"))
                && !next.contains(['\\', '\r', '\n']) =>
        {
            next.to_owned()
        }
        _ => "/tasks".to_owned(),
    }
}

/// The console, mounted at `/tasks` behind the operator's sign-in.
pub(crate) fn console(operator: &Arc<Operator>) -> Router<AppState> {
    let hook = Arc::clone(operator);
    let console =
        djrs::tasks::axum::console(move |parts: &Parts, _access| hook.signed_in(&parts.headers))
            .route_layer(axum::middleware::from_fn_with_state(
                Arc::clone(operator),
                require_sign_in,
            ));
    djrs::tasks::axum::mount(Router::new(), "/tasks", console)
}

/// Sends a browser that is not signed in to the login page, coming back here afterwards.
async fn require_sign_in(
    State(operator): State<Arc<Operator>>,
    request: Request,
    next: Next,
) -> Response {
    if operator.signed_in(request.headers()) {
        return next.run(request).await;
    }
    // The address as the browser asked for it, not as the nested console sees it.
    let here = request
        .extensions()
        .get::<axum::extract::OriginalUri>()
        .and_then(|uri| uri.path_and_query())
        .map_or("/tasks", |p| p.as_str())
        .to_owned();
    let next_page: String = form_urlencoded::byte_serialize(here.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next_page}")).into_response()
}

#[derive(Deserialize)]
pub(crate) struct LoginQuery {
    next: Option<String>,
}

/// `GET /login`.
pub(crate) async fn login_form(
    State(state): State<AppState>,
    Query(query): Query<LoginQuery>,
) -> Result<Response, Error> {
    let next = next_or_console(query.next.as_deref());
    login_page(&state, &next, false)
}

/// The sign-in page, saying whether the last attempt failed.
fn login_page(state: &AppState, next: &str, failed: bool) -> Result<Response, Error> {
    Ok(state
        .render(
            "login.html",
            "Sign in to the task console",
            &serde_json::json!({"next": next, "failed": failed}),
        )?
        .into_response())
}

#[derive(Deserialize)]
pub(crate) struct LoginForm {
    name: String,
    password: String,
    next: Option<String>,
}

/// `POST /login`: a session cookie and on to the console, or the form again.
pub(crate) async fn login(
    State(state): State<AppState>,
    Form(form): Form<LoginForm>,
) -> Result<Response, Error> {
    let next = next_or_console(form.next.as_deref());
    let Some(session) = state.operator.sign_in(&form.name, &form.password) else {
        tracing::warn!("console sign-in refused");
        let mut page = login_page(&state, &next, true)?;
        *page.status_mut() = axum::http::StatusCode::UNAUTHORIZED;
        return Ok(page);
    };
    let mut response = Redirect::to(&next).into_response();
    let cookie = format!("{COOKIE}={session}; Path=/; HttpOnly; SameSite=Strict");
    if let Ok(cookie) = HeaderValue::from_str(&cookie) {
        response.headers_mut().insert(header::SET_COOKIE, cookie);
    }
    Ok(response)
}

/// `POST /logout`.
pub(crate) async fn logout(State(state): State<AppState>, headers: HeaderMap) -> Response {
    state.operator.sign_out(&headers);
    let mut response = Redirect::to("/").into_response();
    response.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static(
            "djrs_demo_operator=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0",
        ),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_operator_signs_in_and_only_while_signed_in() {
        let operator = Operator::parse("ops:correct horse").unwrap();
        assert!(operator.sign_in("ops", "correct hors").is_none());
        assert!(operator.sign_in("ops", "correct horse!").is_none());
        assert!(operator.sign_in("Ops", "correct horse").is_none());
        let session = operator.sign_in("ops", "correct horse").unwrap();
        let mut headers = HeaderMap::new();
        assert!(!operator.signed_in(&headers));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_str(&format!("a=b; {COOKIE}={session}")).unwrap(),
        );
        assert!(operator.signed_in(&headers));
        operator.sign_out(&headers);
        assert!(!operator.signed_in(&headers));
        let mut forged = HeaderMap::new();
        forged.insert(
            header::COOKIE,
            HeaderValue::from_static("djrs_demo_operator=0000"),
        );
        assert!(!operator.signed_in(&forged));
    }

    #[test]
    fn accounts_need_a_name_and_a_real_password() {
        assert!(Operator::parse("ops").is_err());
        assert!(Operator::parse(":longenough").is_err());
        assert!(Operator::parse("ops:short").is_err());
        assert_eq!(
            Operator::parse("ops:a:b:c:d:e").unwrap().password(),
            "a:b:c:d:e"
        );
        let random = Operator::random();
        assert_eq!(random.name(), "operator");
        assert_eq!(random.password().len(), 64);
        assert_ne!(random.password(), Operator::random().password());
    }

    #[test]
    fn sign_in_sends_back_only_into_the_console() {
        for (next, expected) in [
            (Some("/tasks?status=FAILED"), "/tasks?status=FAILED"),
            (Some("/tasks/tasks/1"), "/tasks/tasks/1"),
            (Some("/tasks"), "/tasks"),
            (Some("https://evil.test/tasks"), "/tasks"),
            (Some("//evil.test"), "/tasks"),
            (Some("/tasksx"), "/tasks"),
            (Some("/tasks/\\evil"), "/tasks"),
            (None, "/tasks"),
        ] {
            assert_eq!(next_or_console(next), expected, "{next:?}");
        }
    }
}

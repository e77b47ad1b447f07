//! The console's actions: what an operator may do, its confirmation, and doing it.

use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};

use super::console::{ConsoleError, Ctx, MAX_IDS, Result, Settings, queue_of, text_param};
use super::html::esc;
use super::pages::{home, path_segment};
use crate::{QueueLimit, TaskId, Tasks};

/// What an operator can do from the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Action {
    Retry,
    Cancel,
    Delete,
    RunNow,
    Pause,
    Resume,
    Limit,
}

impl Action {
    const ALL: [Action; 7] = [
        Action::Retry,
        Action::Cancel,
        Action::Delete,
        Action::RunNow,
        Action::Pause,
        Action::Resume,
        Action::Limit,
    ];

    pub(super) fn name(self) -> &'static str {
        match self {
            Action::Retry => "retry",
            Action::Cancel => "cancel",
            Action::Delete => "delete",
            Action::RunNow => "run_now",
            Action::Pause => "pause",
            Action::Resume => "resume",
            Action::Limit => "limit",
        }
    }

    pub(super) fn parse(name: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.name() == name)
    }

    pub(super) fn label(self) -> &'static str {
        match self {
            Action::Retry => "Retry",
            Action::Cancel => "Cancel",
            Action::Delete => "Delete",
            Action::RunNow => "Run now",
            Action::Pause => "Pause",
            Action::Resume => "Resume",
            Action::Limit => "Set limit",
        }
    }

    fn on_queue(self) -> bool {
        matches!(self, Action::Pause | Action::Resume | Action::Limit)
    }

    /// What the confirmation asks.
    fn question(self, n: usize, queue: &str, limit: &str) -> String {
        let tasks = if n == 1 { "task" } else { "tasks" };
        let queue = esc(queue);
        match self {
            Action::Retry => format!("Retry {n} failed {tasks}?"),
            Action::Cancel => format!("Cancel {n} {tasks}? Running tasks are asked to stop."),
            Action::Delete => format!("Delete {n} {tasks} for good?"),
            Action::RunNow => format!("Run {n} deferred {tasks} now?"),
            Action::Pause => {
                format!("Pause the queue {queue}? No new task of it starts on any worker.")
            }
            Action::Resume => format!("Resume the queue {queue}?"),
            Action::Limit => format!("Set the limit of the queue {queue} to {}?", esc(limit)),
        }
    }

    /// What the notice says once done.
    pub(super) fn done(self, n: u64, of: u64) -> String {
        match self {
            Action::Retry => format!("Retried {n} of {of} tasks."),
            Action::Cancel => {
                format!("Cancelled {n} of {of} tasks (running ones stop at their next await).")
            }
            Action::Delete => format!("Deleted {n} of {of} tasks."),
            Action::RunNow => format!("{n} of {of} tasks run now."),
            Action::Pause => "The queue is paused.".to_owned(),
            Action::Resume => "The queue runs again.".to_owned(),
            Action::Limit => "The queue's limit is set.".to_owned(),
        }
    }
}

/// A limit as an operator types it: empty or `configured` (back to the configuration),
/// `none` or `unlimited`, or a number.
pub(super) fn limit_param(value: &str) -> Result<QueueLimit> {
    match value.trim() {
        "" | "configured" => Ok(QueueLimit::Configured),
        "none" | "unlimited" => Ok(QueueLimit::Unlimited),
        n => n.parse().map(QueueLimit::AtMost).map_err(|_| {
            ConsoleError::BadRequest(
                "A limit is a number, \"unlimited\", or empty for the configured one.".to_owned(),
            )
        }),
    }
}

/// Where to go after an action: a console address the form named, or the overview.
pub(super) fn back_to(base: &str, back: Option<&str>) -> String {
    match back {
        Some(back)
            if (back == home(base) || back.starts_with(&format!("{base}/")))
                && !back.starts_with("//")
                && !back.contains(['\\', '\r', '\n']) =>
        {
            back.to_owned()
        }
        _ => home(base),
    }
}

pub(super) async fn act(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    ctx: Ctx,
    body: Bytes,
) -> Result<Response> {
    let form: Vec<(String, String)> = form_urlencoded::parse(&body).into_owned().collect();
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let action = field("action")
        .and_then(Action::parse)
        .ok_or_else(|| ConsoleError::BadRequest("Unknown or missing action.".to_owned()))?;
    let b = &ctx.base;
    let back = back_to(b, field("back"));
    let queue_name = match action.on_queue() {
        true => {
            let name = field("queue").unwrap_or("").trim();
            if name.is_empty() {
                return Err(ConsoleError::BadRequest("Which queue?".to_owned()));
            }
            text_param("queue name", name)?
        }
        false => String::new(),
    };
    let limit_text = field("limit").unwrap_or("").trim().to_owned();
    let limit = limit_param(&limit_text)?;
    let source = if field("scope") == Some("page") {
        "page"
    } else {
        "ids"
    };
    let mut ids: Vec<TaskId> = Vec::new();
    if !action.on_queue() {
        for (k, v) in &form {
            if k == source && !ids.iter().any(|id| id.as_str() == v) {
                ids.push(TaskId::from(text_param("task id", v)?));
            }
        }
        if ids.is_empty() {
            return Err(ConsoleError::BadRequest("No task was selected.".to_owned()));
        }
        if ids.len() > MAX_IDS {
            return Err(ConsoleError::BadRequest(format!(
                "At most {MAX_IDS} tasks at once."
            )));
        }
    }

    if field("confirm") != Some("yes") {
        let mut hidden = String::new();
        for (k, v) in [
            ("action", action.name()),
            ("back", &back),
            ("queue", &queue_name),
            ("limit", &limit_text),
        ] {
            let _ = write!(
                hidden,
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                esc(v)
            );
        }
        let mut listed = String::new();
        for id in &ids {
            let _ = write!(
                hidden,
                "<input type=\"hidden\" name=\"ids\" value=\"{}\">",
                esc(id)
            );
            let _ = write!(
                listed,
                "<li><a class=\"mono\" href=\"{b}/task/{}\">{}</a></li>",
                esc(&path_segment(id)),
                esc(id)
            );
        }
        let body = format!(
            "<h1>Confirm</h1><p>{question}</p><form method=\"post\" action=\"{b}/actions\">{hidden}\
             <input type=\"hidden\" name=\"confirm\" value=\"yes\">\
             <div class=\"bar\"><button class=\"primary\">Yes, {label}</button><a href=\"{back}\">No, go back</a></div></form>\
             <ul>{listed}</ul>",
            question = action.question(ids.len(), &queue_name, &limit_text),
            label = action.label().to_lowercase(),
            back = esc(&back),
        );
        return Ok(ctx.page("Confirm".to_owned(), None, false, body));
    }

    let queue = queue_of(&tasks, &settings.alias)?;
    let done = match action {
        Action::Retry => queue.retry(&ids).await?.len(),
        Action::RunNow => queue.run_now(&ids).await?.len(),
        Action::Delete => queue.delete(&ids).await?.len(),
        Action::Cancel => {
            let mut done = 0;
            for id in &ids {
                if let Some(result) = queue.cancel(id).await? {
                    tasks.hooks().finished(&result);
                    done += 1;
                } else if queue.request_cancel(id).await? {
                    done += 1;
                }
            }
            done
        }
        Action::Pause | Action::Resume => {
            queue
                .set_paused(&queue_name, action == Action::Pause)
                .await?;
            1
        }
        Action::Limit => {
            queue.set_queue_limit(&queue_name, limit).await?;
            1
        }
    };
    tracing::info!(target: "djrs_tasks", action = action.name(), asked = ids.len(), done, queue = %queue_name, "console action");
    let of = if action.on_queue() { 1 } else { ids.len() };
    let separator = if back.contains('?') { '&' } else { '?' };
    Ok(Redirect::to(&format!(
        "{back}{separator}done={}&n={done}&of={of}",
        action.name()
    ))
    .into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_go_back_only_into_the_console() {
        let cases = [
            (
                "/admin/tasks",
                Some("/admin/tasks/list?status=FAILED"),
                "/admin/tasks/list?status=FAILED",
            ),
            ("/admin/tasks", Some("/admin/tasks"), "/admin/tasks"),
            ("/admin/tasks", Some("https://evil.test/"), "/admin/tasks"),
            (
                "/admin/tasks",
                Some("//evil.test/admin/tasks/"),
                "/admin/tasks",
            ),
            ("/admin/tasks", Some("/admin/tasksx"), "/admin/tasks"),
            ("/admin/tasks", Some("/admin/tasks/\\evil"), "/admin/tasks"),
            (
                "/admin/tasks",
                Some("/admin/tasks/x\r\nSet-Cookie: a=b"),
                "/admin/tasks",
            ),
            ("/admin/tasks", None, "/admin/tasks"),
            ("", Some("/tasks/1"), "/tasks/1"),
            ("", Some("//evil.test"), "/"),
            ("", None, "/"),
        ];
        for (base, back, expected) in cases {
            assert_eq!(back_to(base, back), expected, "{base} {back:?}");
        }
    }

    #[test]
    fn limits_read_as_an_operator_types_them() {
        assert_eq!(limit_param("").ok(), Some(QueueLimit::Configured));
        assert_eq!(limit_param("configured").ok(), Some(QueueLimit::Configured));
        assert_eq!(limit_param(" unlimited ").ok(), Some(QueueLimit::Unlimited));
        assert_eq!(limit_param("none").ok(), Some(QueueLimit::Unlimited));
        assert_eq!(limit_param("0").ok(), Some(QueueLimit::AtMost(0)));
        assert_eq!(limit_param("12").ok(), Some(QueueLimit::AtMost(12)));
        assert!(limit_param("-1").is_err());
        assert!(limit_param("1e3").is_err());
    }

    #[test]
    fn every_action_has_one_name() {
        for action in Action::ALL {
            assert_eq!(Action::parse(action.name()), Some(action));
        }
        assert_eq!(Action::parse("drop"), None);
    }
}

//! The console's pages: the overview of the queues, the task lists and a task's page.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::Utc;

use super::actions::Action;
use super::console::{
    Ctx, PER_PAGE, Result, Settings, WINDOW_MINUTES, filter_of, queue_of, text_param,
};
use super::html::{Section, badge, enc, esc, span, time};
use crate::{Error, TaskResultStatus, Tasks};

pub(super) async fn overview(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    ctx: Ctx,
) -> Result<Response> {
    // A list's filters given to the console's own address (`/tasks?status=FAILED`) are the
    // list's.
    if ["status", "queue_name", "task_name", "q"]
        .iter()
        .any(|name| ctx.param(name).is_some())
    {
        let query: Vec<String> = ctx
            .query
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        return Ok(Redirect::to(&format!("{}/list?{}", ctx.base, query.join("&"))).into_response());
    }
    let queue = queue_of(&tasks, &settings.alias)?;
    let now = Utc::now();
    let counts = queue.counts().await?;
    let activity = queue
        .activity(now - chrono::Duration::minutes(WINDOW_MINUTES))
        .await?;
    let paused: BTreeSet<String> = queue.paused().await?.into_iter().collect();
    let limits = queue.queue_limits().await?;

    let mut by_queue: BTreeMap<&str, [u64; 4]> = BTreeMap::new();
    for (name, status, n) in &counts.rows {
        let slot = TaskResultStatus::ALL
            .iter()
            .position(|s| s == status)
            .unwrap_or(0);
        by_queue.entry(name).or_default()[slot] += n;
    }
    let mut names: BTreeSet<&str> = by_queue.keys().copied().collect();
    names.extend(activity.queues.iter().map(|q| q.queue_name.as_str()));
    names.extend(paused.iter().map(String::as_str));
    names.extend(limits.keys().map(String::as_str));

    let b = &ctx.base;
    let mut totals = [0u64; 4];
    // The queue forms send the operator back to the overview.
    let home = home(b);
    let back = esc(&home);
    let mut rows = String::new();
    for name in &names {
        let counts = by_queue.get(name).copied().unwrap_or_default();
        for (total, n) in totals.iter_mut().zip(counts) {
            *total += n;
        }
        let recent = activity.queues.iter().find(|q| q.queue_name == *name);
        let (succeeded, failed) = recent.map_or((0, 0), |q| (q.succeeded, q.failed));
        let finished = succeeded + failed;
        let rate = if finished == 0 {
            "—".to_owned()
        } else {
            format!("{:.1} %", failed as f64 * 100.0 / finished as f64)
        };
        let waiting = recent
            .and_then(|q| q.oldest_due)
            .map_or_else(|| "—".to_owned(), |t| span(now - t));
        let q = enc(name);
        let mut cells = String::new();
        for (status, n) in TaskResultStatus::ALL.iter().zip(counts) {
            let _ = write!(
                cells,
                "<td class=\"num\"><a href=\"{b}/list?queue_name={q}&amp;status={status}\">{n}</a></td>"
            );
        }
        let is_paused = paused.contains(*name);
        let state = if is_paused {
            "<span class=\"paused\">paused</span>"
        } else {
            "running"
        };
        let limit = limits
            .get(*name)
            .map_or_else(|| "none".to_owned(), ToString::to_string);
        let (toggle, label) = if is_paused {
            ("resume", "Resume")
        } else {
            ("pause", "Pause")
        };
        let _ = write!(
            rows,
            "<tr><td><a href=\"{b}/list?queue_name={q}\">{name}</a></td><td>{state}</td><td class=\"num\">{limit}</td>{cells}\
             <td class=\"num\">{per_min:.1}</td><td class=\"num\">{rate}</td><td>{waiting}</td><td>\
             <form class=\"inline\" method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"action\" value=\"{toggle}\">\
             <input type=\"hidden\" name=\"queue\" value=\"{name}\"><input type=\"hidden\" name=\"back\" value=\"{back}\"><button>{label}</button></form> \
             <form class=\"inline\" method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"action\" value=\"limit\">\
             <input type=\"hidden\" name=\"queue\" value=\"{name}\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
             <input name=\"limit\" size=\"5\" placeholder=\"limit\" aria-label=\"limit of {name}\"><button>Set limit</button></form></td></tr>",
            name = esc(name),
            per_min = finished as f64 / WINDOW_MINUTES as f64,
        );
    }
    let mut workers = String::new();
    for worker in &activity.workers {
        let _ = write!(
            workers,
            "<tr><td class=\"mono\">{}</td><td>{}</td></tr>",
            esc(&worker.worker_id),
            time(Some(worker.until))
        );
    }
    if workers.is_empty() {
        workers.push_str("<tr><td colspan=\"2\" class=\"muted\">No worker was seen in the last minute.</td></tr>");
    }
    let finished_recently: u64 = activity.queues.iter().map(|q| q.succeeded + q.failed).sum();
    let mut cards = String::new();
    for (status, n) in TaskResultStatus::ALL.iter().zip(totals) {
        let _ = write!(
            cards,
            "<a class=\"card\" href=\"{b}/list?status={status}\"><b>{n}</b>{status}</a>"
        );
    }
    let _ = write!(
        cards,
        "<div class=\"card\"><b>{:.1}</b>finished per minute</div><div class=\"card\"><b>{}</b>workers</div>",
        finished_recently as f64 / WINDOW_MINUTES as f64,
        activity.workers.len()
    );
    let body = format!(
        "<h1>Overview</h1>{notice}<div class=\"cards\">{cards}</div>\
         <h2>Queues</h2><table><thead><tr><th>queue</th><th>state</th><th class=\"num\">limit</th>\
         <th class=\"num\">ready</th><th class=\"num\">running</th><th class=\"num\">failed</th><th class=\"num\">successful</th>\
         <th class=\"num\">done / min ({WINDOW_MINUTES} min)</th><th class=\"num\">failure rate</th><th>oldest waiting</th><th>actions</th></tr></thead>\
         <tbody>{rows}</tbody></table>\
         <h2>Workers alive</h2><table><thead><tr><th>worker</th><th>alive until</th></tr></thead><tbody>{workers}</tbody></table>",
        notice = ctx.notice(),
    );
    Ok(ctx.page("Overview".to_owned(), Some(Section::Overview), true, body))
}

/// The console's own address: the mount point (`/` at the root).
pub(super) fn home(base: &str) -> String {
    if base.is_empty() {
        "/".to_owned()
    } else {
        base.to_owned()
    }
}

pub(super) async fn list(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    ctx: Ctx,
) -> Result<Response> {
    let b = &ctx.base;
    let mut notice = ctx.notice();
    if let Some(id) = ctx.param("q") {
        let id = text_param("task id", id)?;
        match tasks.get_result_from(&settings.alias, &id).await {
            Ok(found) => {
                return Ok(
                    Redirect::to(&format!("{b}/task/{}", path_segment(&found.id))).into_response(),
                );
            }
            Err(Error::TaskResultDoesNotExist(_)) => {
                notice = format!(
                    "<p class=\"error\" role=\"status\">No task has the id <code>{}</code>.</p>",
                    esc(&id)
                );
            }
            Err(err) => return Err(err.into()),
        }
    }
    let queue = queue_of(&tasks, &settings.alias)?;
    let mut filter = filter_of(&ctx)?;
    let per_page = filter.limit.unwrap_or(PER_PAGE);
    // One more than shown says whether an older page exists.
    filter.limit = Some(per_page + 1);
    let mut results = queue.list_results(&filter).await?;
    let older = results.len() > per_page as usize;
    results.truncate(per_page as usize);

    // The filters again, for the form and the pager's links.
    let kept: Vec<(&str, &str)> = [
        "status",
        "queue_name",
        "task_name",
        "since",
        "until",
        "per_page",
    ]
    .into_iter()
    .filter_map(|k| ctx.param(k).map(|v| (k, v)))
    .collect();
    let query = |extra: &[(&str, &str)]| {
        let pairs: Vec<String> = kept
            .iter()
            .chain(extra)
            .map(|(k, v)| format!("{k}={}", enc(v)))
            .collect();
        if pairs.is_empty() {
            format!("{b}/list")
        } else {
            format!("{b}/list?{}", pairs.join("&"))
        }
    };
    let here = match ctx.param("before") {
        Some(before) => query(&[("before", before)]),
        None => query(&[]),
    };
    let value = |k: &str| esc(ctx.param(k).unwrap_or(""));
    let mut status_options = String::from("<option value=\"\">any</option>");
    for status in TaskResultStatus::ALL {
        let selected = if filter.status == Some(status) {
            " selected"
        } else {
            ""
        };
        let _ = write!(status_options, "<option{selected}>{status}</option>");
    }
    let mut rows = String::new();
    for r in &results {
        let id = esc(&r.id);
        let _ = write!(
            rows,
            "<tr><td><input type=\"checkbox\" name=\"ids\" value=\"{id}\" aria-label=\"select {id}\">\
             <input type=\"hidden\" name=\"page\" value=\"{id}\"></td>\
             <td class=\"mono\"><a href=\"{b}/task/{seg}\">{id}</a></td><td>{task}</td><td>{queue}</td><td>{status}</td>\
             <td class=\"num\">{attempts}/{max}</td><td>{enqueued}</td><td>{finished}</td></tr>",
            seg = esc(&path_segment(&r.id)),
            task = esc(&r.task_name),
            queue = esc(&r.queue_name),
            status = badge(r.status),
            attempts = r.attempts(),
            max = r.max_attempts,
            enqueued = time(Some(r.enqueued_at)),
            finished = time(r.finished_at),
        );
    }
    if rows.is_empty() {
        rows.push_str("<tr><td colspan=\"8\" class=\"muted\">No task matches.</td></tr>");
    }
    let mut pager = String::new();
    if ctx.param("before").is_some() {
        let _ = write!(pager, "<a href=\"{}\">« Newest</a>", esc(&query(&[])));
    }
    if older && let Some(last) = results.last() {
        let _ = write!(
            pager,
            "<a href=\"{}\" rel=\"next\">Older »</a>",
            esc(&query(&[("before", &last.id)]))
        );
    }
    let title = match filter.status {
        Some(status) => format!("{} tasks", status.as_str().to_lowercase()),
        None => "All tasks".to_owned(),
    };
    let body = format!(
        "<h1>{title_h}</h1>{notice}\
         <form class=\"filters\" method=\"get\" action=\"{b}/list\">\
         <label>status<select name=\"status\">{status_options}</select></label>\
         <label>queue<input name=\"queue_name\" value=\"{queue_name}\"></label>\
         <label>task<input name=\"task_name\" value=\"{task_name}\"></label>\
         <label>enqueued since (UTC)<input type=\"datetime-local\" name=\"since\" value=\"{since}\"></label>\
         <label>until<input type=\"datetime-local\" name=\"until\" value=\"{until}\"></label>\
         <button class=\"primary\">Filter</button></form>\
         <form class=\"filters\" method=\"get\" action=\"{b}/list\"><label>task id<input name=\"q\" size=\"40\"></label><button>Find</button></form>\
         <form method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"back\" value=\"{back}\">\
         <div class=\"bar\"><label><input type=\"radio\" name=\"scope\" value=\"selected\" checked> selected</label>\
         <label><input type=\"radio\" name=\"scope\" value=\"page\"> all on this page</label>\
         <button name=\"action\" value=\"retry\">Retry</button><button name=\"action\" value=\"run_now\">Run now</button>\
         <button name=\"action\" value=\"cancel\">Cancel</button><button class=\"danger\" name=\"action\" value=\"delete\">Delete</button>\
         <a href=\"{back}\">Refresh</a></div>\
         <table><thead><tr><th></th><th>id</th><th>task</th><th>queue</th><th>status</th><th class=\"num\">attempts</th><th>enqueued</th><th>finished</th></tr></thead>\
         <tbody>{rows}</tbody></table></form><nav class=\"pager\">{pager}</nav>",
        title_h = esc(&title),
        queue_name = value("queue_name"),
        task_name = value("task_name"),
        since = value("since"),
        until = value("until"),
        back = esc(&here),
    );
    Ok(ctx.page(title, Some(Section::Tasks), false, body))
}

/// A task id as one path segment.
pub(super) fn path_segment(id: &str) -> String {
    // Ids are UUIDs (and, on Redis, a dot and an escaped queue name); anything else is
    // percent-encoded so it stays one segment.
    id.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Pretty JSON for the task page.
pub(super) fn pretty(value: &serde_json::Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

pub(super) async fn task_page(
    State(tasks): State<Tasks>,
    Extension(settings): Extension<Arc<Settings>>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Result<Response> {
    let id = text_param("task id", &id)?;
    let r = tasks.get_result_from(&settings.alias, &id).await?;
    let b = &ctx.base;
    let now = Utc::now();
    let here = format!("{b}/task/{}", path_segment(&r.id));
    let button = |action: Action| {
        format!(
            "<form class=\"inline\" method=\"post\" action=\"{b}/actions\"><input type=\"hidden\" name=\"action\" value=\"{}\">\
             <input type=\"hidden\" name=\"ids\" value=\"{}\"><input type=\"hidden\" name=\"back\" value=\"{}\">\
             <button{}>{}</button></form> ",
            action.name(),
            esc(&r.id),
            esc(&here),
            if action == Action::Delete {
                " class=\"danger\""
            } else {
                ""
            },
            action.label(),
        )
    };
    let mut actions = String::new();
    let deferred = r.run_after.is_some_and(|t| t > now);
    let available: &[Action] = match r.status {
        TaskResultStatus::Ready if deferred => &[Action::RunNow, Action::Cancel, Action::Delete],
        TaskResultStatus::Ready => &[Action::Cancel, Action::Delete],
        TaskResultStatus::Running => &[Action::Cancel],
        TaskResultStatus::Failed => &[Action::Retry, Action::Delete],
        TaskResultStatus::Successful => &[Action::Delete],
    };
    for action in available {
        actions.push_str(&button(*action));
    }
    let waited = r
        .started_at
        .map(|s| span(s - r.run_after.unwrap_or(r.enqueued_at).max(r.enqueued_at)));
    let ran = match (r.last_attempted_at, r.finished_at) {
        (Some(start), Some(end)) => Some(span(end - start)),
        (Some(start), None) if r.status == TaskResultStatus::Running => {
            Some(format!("{} so far", span(now - start)))
        }
        _ => None,
    };
    let mut attempts = String::new();
    for (n, worker) in r.worker_ids.iter().enumerate() {
        let _ = write!(
            attempts,
            "<tr><td class=\"num\">{}</td><td class=\"mono\">{}</td></tr>",
            n + 1,
            esc(worker)
        );
    }
    if attempts.is_empty() {
        attempts.push_str("<tr><td colspan=\"2\" class=\"muted\">Not attempted yet.</td></tr>");
    }
    let mut errors = String::new();
    for (n, e) in r.errors.iter().enumerate() {
        let _ = write!(
            errors,
            "<h3>{}. <code>{}</code></h3><p>{}</p><pre>{}</pre>",
            n + 1,
            esc(&e.exception_class_path),
            esc(&e.message),
            esc(&e.traceback)
        );
    }
    if errors.is_empty() {
        errors.push_str("<p class=\"muted\">None.</p>");
    }
    let metadata = if r.metadata.is_empty() {
        "<p class=\"muted\">None recorded.</p>".to_owned()
    } else {
        format!(
            "<pre>{}</pre>",
            esc(&pretty(&serde_json::Value::Object(r.metadata.clone())))
        )
    };
    let return_value = r.return_value.as_ref().map_or_else(
        || "—".to_owned(),
        |v| format!("<pre>{}</pre>", esc(&pretty(v))),
    );
    let body = format!(
        "<h1>{task} {status}</h1>{notice}<div class=\"bar\">{actions}</div>\
         <dl class=\"facts\"><dt>id</dt><dd class=\"mono\">{id}</dd><dt>queue</dt><dd><a href=\"{b}/list?queue_name={q}\">{queue}</a></dd>\
         <dt>priority</dt><dd>{priority}</dd><dt>attempts</dt><dd>{attempts_n} of {max}</dd>\
         <dt>enqueued</dt><dd>{enqueued}</dd><dt>run after</dt><dd>{run_after}</dd><dt>started</dt><dd>{started}</dd>\
         <dt>last attempted</dt><dd>{last}</dd><dt>finished</dt><dd>{finished}</dd>\
         <dt>waited</dt><dd>{waited}</dd><dt>ran</dt><dd>{ran}</dd><dt>unique key</dt><dd>{unique}</dd></dl>\
         <h2>Arguments</h2><pre>{args}</pre><h2>Return value</h2>{return_value}\
         <h2>Metadata</h2>{metadata}\
         <h2>Attempts</h2><table><thead><tr><th class=\"num\">#</th><th>worker</th></tr></thead><tbody>{attempts}</tbody></table>\
         <h2>Errors</h2>{errors}",
        task = esc(&r.task_name),
        status = badge(r.status),
        notice = ctx.notice(),
        id = esc(&r.id),
        q = enc(&r.queue_name),
        queue = esc(&r.queue_name),
        priority = r.priority,
        attempts_n = r.attempts(),
        max = r.max_attempts,
        enqueued = time(Some(r.enqueued_at)),
        run_after = time(r.run_after),
        started = time(r.started_at),
        last = time(r.last_attempted_at),
        finished = time(r.finished_at),
        waited = waited.unwrap_or_else(|| "—".to_owned()),
        ran = ran.unwrap_or_else(|| "—".to_owned()),
        unique = esc(r.unique_key.as_deref().unwrap_or("—")),
        args = esc(&pretty(&r.args)),
    );
    Ok(ctx.page(format!("Task {}", r.id), Some(Section::Tasks), true, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_stay_one_path_segment() {
        assert_eq!(
            path_segment("0190d1c4-7f3a-7cc0-9a55-1d0c2b1b7a10.emails_2f"),
            "0190d1c4-7f3a-7cc0-9a55-1d0c2b1b7a10.emails_2f"
        );
        assert_eq!(path_segment("a/b c?"), "a%2Fb%20c%3F");
    }
}

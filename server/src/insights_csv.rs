//! `GET /accounts/{id}/insights/{table}.csv?days=7|30|90&offset={minutes}`: each table of the
//! console's Insights tab as CSV (written by the `csv` crate), for a signed-in console user who
//! may see the account. The figures are `messaging::insights`', the same as the page and REST.
//! Text from subscribers or editors (a post's first words, an invite link's name) that a
//! spreadsheet would read as a formula is prefixed with `'`.

use crate::state::AppState;
use axum::extract::{Extension, Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use messaging::insights::DayRange;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct CsvQuery {
    #[serde(default = "thirty")]
    pub days: i64,
    /// The viewer's minutes from UTC (the hours table is in their zone, as on the page).
    #[serde(default)]
    pub offset: i32,
}

fn thirty() -> i64 {
    30
}

fn refusal(status: StatusCode, sentence: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{sentence}\n")).into_response()
}

/// A cell a spreadsheet will not run.
pub(crate) fn cell(text: &str) -> String {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}")
    } else {
        text.to_owned()
    }
}

pub async fn download(
    State(state): State<AppState>,
    signed_in: Option<Extension<app::SignedIn>>,
    Path((account, file)): Path<(String, String)>,
    Query(q): Query<CsvQuery>,
) -> Response {
    let Some(Extension(app::SignedIn { user, .. })) = signed_in else {
        return refusal(StatusCode::UNAUTHORIZED, "You are signed out. Sign in again.");
    };
    let Ok(id) = messaging::OfficialAccountId::parse("account", &account) else {
        return refusal(StatusCode::BAD_REQUEST, "The address does not name an official account.");
    };
    let Some(table) = file.strip_suffix(".csv") else {
        return refusal(StatusCode::NOT_FOUND, "No such table.");
    };
    if !app::insights_tables::RANGES.contains(&q.days) {
        return refusal(StatusCode::BAD_REQUEST, "The range is 7, 30 or 90 days.");
    }
    if !(-14 * 60..=14 * 60).contains(&q.offset) {
        return refusal(StatusCode::BAD_REQUEST, "The time zone is more than 14 hours from UTC.");
    }
    match state.messaging.console().authorize(&user, messaging::Action::View, Some(&id)).await {
        Ok(_) => {}
        Err(messaging::Error::Forbidden(why)) => return refusal(StatusCode::FORBIDDEN, &why),
        Err(messaging::Error::AccountNotFound(_)) => return refusal(StatusCode::NOT_FOUND, "This official account does not exist."),
        Err(e) => {
            tracing::error!(error = %e, "checking a CSV download's permission failed");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "The server could not check your permission; try again.");
        }
    }
    match table_csv(&state.messaging, &id, table, q).await {
        Ok(Some(body)) => {
            let name = format!("attachment; filename=\"insights-{table}.csv\"");
            ([(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, name)], body).into_response()
        }
        Ok(None) => refusal(StatusCode::NOT_FOUND, "No such table: days, hours, notifications, sources or posts."),
        Err(messaging::Error::AccountNotFound(_)) => refusal(StatusCode::NOT_FOUND, "This official account does not exist."),
        Err(e) => {
            tracing::error!(error = %e, "an insights CSV failed");
            refusal(StatusCode::INTERNAL_SERVER_ERROR, "The figures could not be read; try again.")
        }
    }
}

pub(crate) async fn table_csv(
    m: &messaging::Messaging,
    id: &messaging::OfficialAccountId,
    table: &str,
    q: CsvQuery,
) -> messaging::Result<Option<Vec<u8>>> {
    let insights = m.insights();
    let range = DayRange::last(q.days, insights.today());
    let mut out = csv::Writer::from_writer(Vec::new());
    let write =
        |out: &mut csv::Writer<Vec<u8>>, row: Vec<String>| out.write_record(&row).map_err(|e| messaging::Error::Internal(e.to_string()));
    let strings = |row: &[&str]| row.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    match table {
        "days" => {
            let f = insights.account(id, range).await?;
            write(
                &mut out,
                strings(&["date", "subscribers", "subscribed", "unsubscribed", "reads", "reactions", "messages_in", "replies", "posts"]),
            )?;
            for d in &f.days {
                let n = [d.total, d.subscribed, d.unsubscribed, d.reads, d.reactions, d.messages_in, d.replies, d.posts];
                write(&mut out, std::iter::once(d.date.to_string()).chain(n.iter().map(i64::to_string)).collect())?;
            }
        }
        "hours" => {
            let f = insights.account(id, range).await?;
            let zone = app::insights_tables::zone_name(q.offset);
            write(&mut out, vec![format!("hour ({zone})"), "reads".into()])?;
            for (h, n) in app::insights_tables::shift_hours(&f.reads_by_hour, q.offset).iter().enumerate() {
                write(&mut out, vec![format!("{h:02}:00"), n.to_string()])?;
            }
        }
        "notifications" => {
            let f = insights.account(id, range).await?;
            write(&mut out, strings(&["setting", "subscribers"]))?;
            for (flag, n) in [
                ("AcceptAndNotify", f.msg_flags.accept_and_notify),
                ("AcceptNotNotify", f.msg_flags.accept_not_notify),
                ("Discard", f.msg_flags.discard),
            ] {
                write(&mut out, vec![flag.into(), n.to_string()])?;
            }
        }
        "sources" => {
            let f = insights.account(id, range).await?;
            write(&mut out, strings(&["source", "subscribed"]))?;
            for s in &f.by_source {
                write(&mut out, vec![cell(&s.source), s.subscribed.to_string()])?;
            }
        }
        "posts" => {
            write(
                &mut out,
                strings(&[
                    "sent_utc",
                    "msg_key",
                    "type",
                    "post",
                    "recipients",
                    "delivered_live",
                    "pushed",
                    "reads",
                    "read_rate",
                    "reactions",
                    "recalled",
                ]),
            )?;
            for p in insights.posts_in(id, range).await? {
                let (kind, summary) = app::insights_tables::kind_and_summary(&p.body_json());
                let f = &p.figures;
                let reactions = f.reactions.iter().map(|r| format!("{} {}", r.reaction_id, r.count)).collect::<Vec<_>>().join("; ");
                write(
                    &mut out,
                    vec![
                        app::insights_tables::utc_minutes(f.msg_time),
                        f.msg_key.clone(),
                        kind,
                        cell(&summary),
                        f.recipients.to_string(),
                        f.delivered_live.to_string(),
                        f.pushed.to_string(),
                        f.reads.to_string(),
                        f.read_rate().map_or(String::new(), |r| format!("{r:.4}")),
                        cell(&reactions),
                        f.recalled.to_string(),
                    ],
                )?;
            }
        }
        _ => return Ok(None),
    }
    out.into_inner().map(Some).map_err(|e| messaging::Error::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_cell_that_would_be_a_formula_is_quoted() {
        assert_eq!(super::cell("=HYPERLINK(\"x\")"), "'=HYPERLINK(\"x\")");
        assert_eq!(super::cell("@sum"), "'@sum");
        assert_eq!(super::cell("Spring sale"), "Spring sale");
    }
}

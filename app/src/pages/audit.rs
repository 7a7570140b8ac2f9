//! **Audit log** (`/settings/audit`, platform owner): who did what, when, from which address, to
//! which account; newest first, filtered by user and by account, paged by event ID (`?before=`).

use super::layout::Frame;
use crate::error::ConsoleError;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use messaging::audit::AuditEvent;

/// Events on one page.
const PAGE: i64 = 50;

/// A page of the log, newest first; `user` and `account` filter when not empty.
#[server(endpoint = "audit_page", output = crate::codec::Json)]
pub async fn audit_page(user: String, account: String, before: Option<i64>) -> Result<Vec<AuditEvent>, ConsoleError> {
    let (state, _) = crate::ssr::allowed(messaging::Action::ManageApp, None).await?;
    let filter = |s: String| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
    let query = messaging::audit::AuditQuery { actor: filter(user), account: filter(account), before, limit: PAGE };
    Ok(state.messaging.audit_log(&query).await?)
}

/// The action in words ("post.published" → "Post published").
fn action_label(action: &str) -> String {
    let words = action.replace(['.', '_'], " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let user = Memo::new(move |_| query.read().get("user").unwrap_or_default());
    let account = Memo::new(move |_| query.read().get("account").unwrap_or_default());
    let before = Memo::new(move |_| query.read().get("before").and_then(|b| b.parse::<i64>().ok()));
    let events = Resource::new(move || (user.get(), account.get(), before.get()), |(u, a, b)| audit_page(u, a, b));
    let link = move |before: Option<i64>| {
        let mut q = Vec::new();
        for (name, value) in [("user", user.get_untracked()), ("account", account.get_untracked())] {
            if !value.is_empty() {
                q.push(format!("{name}={}", crate::paths::encode(&value)));
            }
        }
        if let Some(b) = before {
            q.push(format!("before={b}"));
        }
        if q.is_empty() {
            "/settings/audit".to_owned()
        } else {
            format!("/settings/audit?{}", q.join("&"))
        }
    };
    view! {
        <Frame>
            <h1>"Audit log"</h1>
            <form method="get" action="/settings/audit" class="filters">
                <div>
                    <label for="audit-user">"User"</label>
                    <input id="audit-user" name="user" value=move || user.get() placeholder="a console user or the REST administrator"/>
                </div>
                <div>
                    <label for="audit-account">"Account"</label>
                    <input id="audit-account" name="account" value=move || account.get() placeholder="an official account ID"/>
                </div>
                <button type="submit">"Filter"</button>
            </form>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match events.await {
                        Ok(rows) if rows.is_empty() => view! { <p class="empty">"No events."</p> }.into_any(),
                        Ok(rows) => {
                            let older = (rows.len() as i64 == PAGE).then(|| rows.last().map(|e| e.id)).flatten();
                            view! {
                                <table class="audit">
                                    <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Who"</th><th scope="col">"What"</th>
                                        <th scope="col">"Account"</th><th scope="col">"Details"</th><th scope="col">"From"</th></tr></thead>
                                    <tbody>
                                        {rows.into_iter().map(|e| view! {
                                            <tr>
                                                <td>{crate::time_fmt::utc_minutes(e.at)}</td>
                                                <td>{e.actor.clone()}</td>
                                                <td>{action_label(&e.action)}</td>
                                                <td>{e.account.clone().map(|a| view! { <code>{a}</code> })}</td>
                                                <td>{e.detail.clone()}</td>
                                                <td>{e.address.clone()}</td>
                                            </tr>
                                        }).collect_view()}
                                    </tbody>
                                </table>
                                <nav class="pager" aria-label="Audit log pages">
                                    {before.get_untracked().is_some().then(|| view! { <a href=link(None)>"Newest"</a> })}
                                    {older.map(|id| view! { <a href=link(Some(id))>"Older"</a> })}
                                </nav>
                            }.into_any()
                        }
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn actions_read_as_words() {
        assert_eq!(super::action_label("post.published"), "Post published");
        assert_eq!(super::action_label("sign_in.failed"), "Sign in failed");
    }
}

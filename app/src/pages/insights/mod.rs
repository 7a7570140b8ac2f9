//! The **Insights** tab (`/accounts/{id}/insights?days=7|30|90`): what the account's posts
//! reached and how its audience grows, for everyone who may see the account. The figures come
//! from `messaging::insights` (the same as REST `get_account_insights` / `get_post_insights`);
//! the charts are SVG made on the server (`charts`), each with its numbers in a table; every
//! table has a CSV download (`/accounts/{id}/insights/{table}.csv`, served by `server`). While
//! the page is open it asks again every few seconds, so the online count and the newest post's
//! reads move without a reload.

#[cfg(feature = "ssr")]
mod charts;

use super::account::{use_account_id, AccountHead, Tab};
use super::layout::Frame;
use crate::error::ConsoleError;
use crate::paths;
use crate::time_fmt::utc_minutes;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use messaging::insights::{AccountInsights, PostFigures};
use serde::{Deserialize, Serialize};

/// The ranges offered, in days.
pub const RANGES: [i64; 3] = [7, 30, 90];
/// How often an open page asks again.
#[cfg(feature = "hydrate")]
const REFRESH_MS: u64 = 5_000;

/// One sent post in the table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PostLine {
    pub figures: PostFigures,
    /// "Text", "Image", "Text and image", or "Message".
    pub kind: String,
    pub summary: String,
    /// A poll's results as bars (the renderer's HTML), for a poll.
    #[serde(default)]
    pub poll_html: Option<String>,
}

/// The charts, SVG text made on the server.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Charts {
    pub subscribers: String,
    pub gained_lost: String,
    pub reads_by_hour: String,
    pub notifications: String,
    pub sources: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InsightsView {
    pub figures: AccountInsights,
    /// The first `POSTS_SHOWN` posts of the range in the order asked for.
    pub posts: Vec<PostLine>,
    /// How many posts the range has (the CSV has them all).
    pub posts_total: usize,
    /// Reads over recipients of all the range's posts, as a percentage.
    pub read_rate: Option<f64>,
    pub charts: Charts,
    /// Reads by hour of day in the viewer's zone (shifted by `utc_offset_minutes`, whole hours).
    pub reads_by_local_hour: Vec<i64>,
}

/// Posts the tab lists at once: a page stays small however much was sent.
#[cfg(feature = "ssr")]
pub const POSTS_SHOWN: usize = 100;

/// Reads over recipients, as a percentage.
#[cfg(feature = "ssr")]
fn read_rate_of<'a>(posts: impl Iterator<Item = &'a PostFigures>) -> Option<f64> {
    let (reads, recipients) = posts.fold((0, 0), |(r, n), p| (r + p.reads, n + p.recipients));
    (recipients > 0).then(|| reads as f64 * 100.0 / recipients as f64)
}

/// The 24 UTC hours as the hours of a zone `offset_minutes` from UTC (whole hours; a zone
/// with a half hour is rounded down).
#[cfg(any(feature = "ssr", test))]
pub fn shift_hours(utc: &[i64], offset_minutes: i32) -> Vec<i64> {
    let shift = offset_minutes.div_euclid(60).rem_euclid(24) as usize;
    (0..24).map(|local| utc.get((local + 24 - shift) % 24).copied().unwrap_or(0)).collect()
}

/// "+1 234" for a change, "0" for none.
fn signed(n: i64) -> String {
    if n > 0 {
        format!("+{n}")
    } else {
        n.to_string()
    }
}

fn percent(rate: Option<f64>) -> String {
    rate.map_or("–".into(), |r| format!("{r:.1}%"))
}

#[server(endpoint = "load_insights", output = crate::codec::Json)]
pub async fn load_insights(
    account: String,
    days: i64,
    utc_offset_minutes: i32,
    sort: SortBy,
    descending: bool,
) -> Result<InsightsView, ConsoleError> {
    use messaging::insights::DayRange;
    let id = crate::ssr::account_id(&account)?;
    if !RANGES.contains(&days) {
        return Err(ConsoleError::BadRequest(format!("The range is 7, 30 or 90 days (got {days}).")));
    }
    if !(-14 * 60..=14 * 60).contains(&utc_offset_minutes) {
        return Err(ConsoleError::BadRequest("The time zone is more than 14 hours from UTC.".into()));
    }
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    let insights = state.messaging.insights();
    let range = DayRange::last(days, insights.today());
    let figures = insights.account(&id, range).await?;
    let mut sent = insights.posts_in(&id, range).await?;
    let posts_total = sent.len();
    let read_rate = read_rate_of(sent.iter().map(|p| &p.figures));
    sent.sort_by(|a, b| compare(&a.figures, &b.figures, sort, descending));
    sent.truncate(POSTS_SHOWN);
    let seqs: Vec<i64> = sent.iter().filter_map(|p| messaging::MsgKey::parse(&p.figures.msg_key)).map(|k| k.seq).collect();
    let mut polls = state.messaging.polls().results(&id, &seqs).await?;
    let posts = sent
        .into_iter()
        .map(|p| {
            let body = p.body_json();
            let (kind, summary) = super::posts::kind_and_summary(&body);
            let results = messaging::MsgKey::parse(&p.figures.msg_key).and_then(|k| polls.remove(&k.seq));
            let poll_html = super::posts::poll_html(&body, results);
            PostLine { figures: p.figures, kind, summary, poll_html }
        })
        .collect();
    let reads_by_local_hour = shift_hours(&figures.reads_by_hour, utc_offset_minutes);
    let charts = make_charts(&figures, &reads_by_local_hour, &zone_name(utc_offset_minutes));
    Ok(InsightsView { figures, posts, posts_total, read_rate, charts, reads_by_local_hour })
}

/// The account Overview's figures: the Insights tab's headline over the last 30 days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Headline {
    pub subscribers: i64,
    pub net_change: i64,
    /// Percent of the recipients of the range's posts who read them.
    pub read_rate: Option<f64>,
    pub online_now: i64,
}

#[server(endpoint = "insights_headline", output = crate::codec::Json)]
pub async fn insights_headline(account: String) -> Result<Headline, ConsoleError> {
    use messaging::insights::DayRange;
    let id = crate::ssr::account_id(&account)?;
    let (state, _user) = crate::ssr::allowed(messaging::Action::View, Some(&id)).await?;
    let insights = state.messaging.insights();
    let range = DayRange::last(30, insights.today());
    let figures = insights.account(&id, range).await?;
    let posts = insights.posts_in(&id, range).await?;
    Ok(Headline {
        subscribers: figures.subscribers(),
        net_change: figures.net_change(),
        read_rate: read_rate_of(posts.iter().map(|p| &p.figures)),
        online_now: figures.online_now,
    })
}

/// The headline figures as the Overview shows them, with a link to the tab.
#[component]
pub fn HeadlineFigures(account: String) -> impl IntoView {
    let id = account.clone();
    let headline = Resource::new(move || id.clone(), insights_headline);
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new({
                let account = account.clone();
                async move {
                    headline.await.ok().map(|h| view! {
                        <dl class="headline" aria-label="Last 30 days">
                            <div><dt>"Subscribers"</dt><dd>{h.subscribers}</dd></div>
                            <div><dt>"Net change, 30 days"</dt><dd>{signed(h.net_change)}</dd></div>
                            <div><dt>"Read rate, 30 days"</dt><dd>{percent(h.read_rate)}</dd></div>
                            <div><dt>"Online now"</dt><dd>{h.online_now}</dd></div>
                        </dl>
                        <p><a href=paths::insights(&account)>"All insights"</a></p>
                    })
                }
            })}
        </Transition>
    }
}

/// "UTC" or "UTC+05:30".
pub fn zone_name(offset_minutes: i32) -> String {
    if offset_minutes == 0 {
        return "UTC".into();
    }
    let sign = if offset_minutes < 0 { '-' } else { '+' };
    format!("UTC{sign}{:02}:{:02}", offset_minutes.abs() / 60, offset_minutes.abs() % 60)
}

#[cfg(feature = "ssr")]
fn make_charts(f: &AccountInsights, local_hours: &[i64], zone: &str) -> Charts {
    use charts::*;
    let labels: Vec<String> = f.days.iter().map(|d| d.date.to_string()[5..].to_owned()).collect();
    let totals: Vec<i64> = f.days.iter().map(|d| d.total).collect();
    let gained: Vec<i64> = f.days.iter().map(|d| d.subscribed).collect();
    let lost: Vec<i64> = f.days.iter().map(|d| d.unsubscribed).collect();
    let (first, last) = (totals.first().copied().unwrap_or(0), totals.last().copied().unwrap_or(0));
    let n = f.days.len();
    let busiest = local_hours.iter().enumerate().max_by_key(|(h, v)| (**v, std::cmp::Reverse(*h))).filter(|(_, v)| **v > 0);
    let hours: Vec<String> = (0..24).map(|h| format!("{h:02}")).collect();
    let flags = [
        ("Notified".to_owned(), f.msg_flags.accept_and_notify),
        ("Silent".to_owned(), f.msg_flags.accept_not_notify),
        ("Muted (discard)".to_owned(), f.msg_flags.discard),
    ];
    let sources: Vec<(String, i64)> = f.by_source.iter().map(|s| (source_label(&s.source), s.subscribed)).collect();
    Charts {
        subscribers: line(
            "chart-subscribers",
            "Subscribers over time",
            &format!("Subscribers at the end of each of the last {n} days: from {first} to {last}."),
            &labels,
            &totals,
        ),
        gained_lost: gained_lost(
            "chart-gained-lost",
            "Gained and lost per day",
            &format!(
                "New subscriptions (green bars, above the line) and unsubscribes (vermillion bars, below it) per day: {} gained, {} lost in {n} days.",
                gained.iter().sum::<i64>(),
                lost.iter().sum::<i64>()
            ),
            &labels,
            &gained,
            &lost,
        ),
        reads_by_hour: columns(
            "chart-hours",
            &format!("Reads by hour of day ({zone})"),
            &match busiest {
                Some((h, v)) => format!("Post reads per hour of the day in {zone}; the busiest hour is {h:02}:00 with {v} reads."),
                None => format!("Post reads per hour of the day in {zone}; no reads yet in this range."),
            },
            &hours,
            local_hours,
        ),
        notifications: bars(
            "chart-notifications",
            "Notification settings",
            &format!(
                "Subscribers now: {} notified, {} silent, {} muted.",
                f.msg_flags.accept_and_notify, f.msg_flags.accept_not_notify, f.msg_flags.discard
            ),
            &flags,
            &[BLUE, ORANGE, VERMILLION],
        ),
        sources: bars(
            "chart-sources",
            "Subscriptions by source",
            &if sources.is_empty() {
                "No new subscriptions in this range.".to_owned()
            } else {
                format!(
                    "New subscriptions in the range by where they came from: {}.",
                    sources.iter().map(|(s, n)| format!("{s} {n}")).collect::<Vec<_>>().join(", ")
                )
            },
            &sources,
            &[GREEN, BLUE, ORANGE, VERMILLION],
        ),
    }
}

/// How a source reads in the console.
pub fn source_label(source: &str) -> String {
    match source {
        "api" => "REST API".into(),
        "app" => "App".into(),
        "console" => "Console".into(),
        "" => "Before sources were kept".into(),
        other => match other.strip_prefix("link:") {
            Some(name) => format!("Invite link \u{201c}{name}\u{201d}"),
            None => other.to_owned(),
        },
    }
}

/// Which column the posts table is sorted by (on the server: the page lists the first
/// `POSTS_SHOWN` of the order).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SortBy {
    Sent,
    Recipients,
    Live,
    Reads,
    ReadRate,
    Reactions,
}

#[cfg(any(feature = "ssr", test))]
fn compare(a: &PostFigures, b: &PostFigures, by: SortBy, descending: bool) -> std::cmp::Ordering {
    let rate = |p: &PostFigures| p.read_rate().unwrap_or(-1.0);
    let order = match by {
        SortBy::Sent => a.msg_time.cmp(&b.msg_time),
        SortBy::Recipients => a.recipients.cmp(&b.recipients),
        SortBy::Live => a.delivered_live.cmp(&b.delivered_live),
        SortBy::Reads => a.reads.cmp(&b.reads),
        SortBy::ReadRate => rate(a).total_cmp(&rate(b)),
        SortBy::Reactions => a.reaction_total().cmp(&b.reaction_total()),
    };
    let order = order.then(a.msg_key.cmp(&b.msg_key));
    if descending {
        order.reverse()
    } else {
        order
    }
}

#[component]
pub fn InsightsPage() -> impl IntoView {
    let account = use_account_id();
    let query = use_query_map();
    let days = Memo::new(move |_| query.read().get("days").and_then(|d| d.parse().ok()).filter(|d| RANGES.contains(d)).unwrap_or(30));
    // UTC on the server; the browser's own offset once hydrated.
    let offset = RwSignal::new(0i32);
    let tick = RwSignal::new(0u32);
    #[cfg(feature = "hydrate")]
    {
        Effect::new(move |_| offset.set(-js_sys::Date::new_0().get_timezone_offset() as i32));
        if let Ok(handle) = set_interval_with_handle(move || tick.update(|t| *t += 1), std::time::Duration::from_millis(REFRESH_MS)) {
            on_cleanup(move || handle.clear());
        }
    }
    let sort = RwSignal::new((SortBy::Sent, true));
    let data = Resource::new(
        move || (account.get(), days.get(), offset.get(), sort.get(), tick.get()),
        |(a, d, o, (by, descending), _)| load_insights(a, d, o, by, descending),
    );

    let ranges = move || {
        let a = account.get();
        view! {
            <nav class="ranges" aria-label="Range">
                {RANGES.iter().map(|d| {
                    let href = format!("{}?days={d}", paths::insights(&a));
                    view! { <a href=href aria-current=move || (days.get() == *d).then_some("page")>{format!("{d} days")}</a> }
                }).collect_view()}
            </nav>
        }
    };

    view! {
        <Frame>
            <AccountHead tab=Tab::Insights/>
            {ranges}
            <Transition fallback=|| view! { <p>"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Ok(v) => view! { <InsightsBody view=v account=account.get_untracked() days=days.get_untracked() offset=offset.get_untracked() sort/> }.into_any(),
                        Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
                    }
                })}
            </Transition>
        </Frame>
    }
}

/// A chart made on the server with a visible caption (the SVG's own title names it for
/// assistive technology).
fn chart(svg: String, caption: String) -> impl IntoView {
    view! {
        <figure>
            <figcaption aria-hidden="true">{caption}</figcaption>
            <div inner_html=svg></div>
        </figure>
    }
}

#[component]
fn InsightsBody(view: InsightsView, account: String, days: i64, offset: i32, sort: RwSignal<(SortBy, bool)>) -> impl IntoView {
    let base = paths::insights(&account);
    let csv = move |table: &str| format!("{base}/{table}.csv?days={days}&offset={offset}");
    let f = &view.figures;
    let zone = zone_name(offset);
    let headline = view! {
        <dl class="headline" aria-label="Headline figures">
            <div><dt>"Subscribers"</dt><dd>{f.subscribers()}</dd></div>
            <div><dt>{format!("Net change, {days} days")}</dt><dd>{signed(f.net_change())}</dd></div>
            <div><dt>"Read rate"</dt><dd>{percent(view.read_rate)}</dd></div>
            <div><dt>"Online now"</dt><dd data-testid="online-now">{f.online_now}</dd></div>
        </dl>
    };
    let day_rows = f
        .days
        .iter()
        .rev()
        .map(|d| {
            view! {
                <tr>
                    <th scope="row">{d.date.to_string()}</th>
                    <td>{d.total}</td><td>{d.subscribed}</td><td>{d.unsubscribed}</td><td>{d.reads}</td>
                    <td>{d.reactions}</td><td>{d.messages_in}</td><td>{d.replies}</td><td>{d.posts}</td>
                </tr>
            }
        })
        .collect_view();
    let hour_rows = view
        .reads_by_local_hour
        .iter()
        .enumerate()
        .map(|(h, n)| view! { <tr><th scope="row">{format!("{h:02}:00")}</th><td>{*n}</td></tr> })
        .collect_view();
    let flag_rows = view! {
        <tr><th scope="row">"Notified"</th><td>{f.msg_flags.accept_and_notify}</td></tr>
        <tr><th scope="row">"Silent"</th><td>{f.msg_flags.accept_not_notify}</td></tr>
        <tr><th scope="row">"Muted (discard)"</th><td>{f.msg_flags.discard}</td></tr>
    };
    let source_rows =
        f.by_source.iter().map(|s| view! { <tr><th scope="row">{source_label(&s.source)}</th><td>{s.subscribed}</td></tr> }).collect_view();
    let no_sources = f.by_source.is_empty().then(|| view! { <tr><td colspan="2">"None in this range."</td></tr> });
    let posts = view.posts.clone();
    let account_for_rows = account.clone();
    let post_rows = move || {
        posts
            .clone()
            .into_iter()
            .map(|p| {
                let href = paths::post(&account_for_rows, &p.figures.msg_key);
                let reactions = if p.figures.reactions.is_empty() {
                    "–".to_owned()
                } else {
                    p.figures.reactions.iter().map(|r| format!("{} {}", r.reaction_id, r.count)).collect::<Vec<_>>().join(" · ")
                };
                view! {
                    <tr>
                        <td>{utc_minutes(p.figures.msg_time)}</td>
                        <td>{p.kind.clone()}</td>
                        <th scope="row"><a href=href>{if p.summary.is_empty() { p.figures.msg_key.clone() } else { p.summary.clone() }}</a>
                            {p.figures.recalled.then(|| view! { " " <span class="badge">"Recalled"</span> })}
                            {p.poll_html.clone().map(|h| view! { <div class="poll-results" inner_html=h></div> })}</th>
                        <td>{p.figures.recipients}</td>
                        <td>{p.figures.delivered_live}</td>
                        <td>{p.figures.reads}</td>
                        <td>{percent(p.figures.read_rate().map(|r| r * 100.0))}</td>
                        <td>{reactions}</td>
                    </tr>
                }
            })
            .collect_view()
    };
    let header = move |label: &'static str, by: SortBy| {
        let state = move || match sort.get() {
            (b, true) if b == by => "descending",
            (b, false) if b == by => "ascending",
            _ => "none",
        };
        view! {
            <th scope="col" aria-sort=state>
                <button type="button" class="sort" on:click=move |_| sort.update(|(b, d)| { if *b == by { *d = !*d } else { *b = by; *d = true } })>
                    {label}
                </button>
            </th>
        }
    };
    let no_posts = view.posts.is_empty().then(|| view! { <p class="muted">"No posts were sent in this range."</p> });
    let more = (view.posts_total > view.posts.len())
        .then(|| view! { <p class="muted">{format!("The first {} of {} posts in this order; the CSV has them all.", view.posts.len(), view.posts_total)}</p> });
    let Charts { subscribers, gained_lost, reads_by_hour, notifications, sources } = view.charts.clone();
    view! {
        {headline}
        <section class="insight" aria-labelledby="growth-title">
            <h2 id="growth-title">"Growth"</h2>
            <div class="charts">
                {chart(subscribers, "Subscribers over time".into())}
                {chart(gained_lost, "Gained (green, up) and lost (vermillion, down) per day".into())}
            </div>
            <details>
                <summary>"Numbers per day"</summary>
                <div class="table-scroll" tabindex="0" role="region" aria-label="Per day, scrolls sideways">
                    <table class="numbers" aria-label="Per day">
                        <thead><tr><th scope="col">"Date (UTC)"</th><th scope="col">"Subscribers"</th><th scope="col">"Gained"</th><th scope="col">"Lost"</th>
                            <th scope="col">"Reads"</th><th scope="col">"Reactions"</th><th scope="col">"Messages in"</th><th scope="col">"Replies"</th><th scope="col">"Posts"</th></tr></thead>
                        <tbody>{day_rows}</tbody>
                    </table>
                </div>
            </details>
            <p><a href=csv("days") download>"Download CSV (per day)"</a></p>
        </section>
        <section class="insight" aria-labelledby="hours-title">
            <h2 id="hours-title">"When subscribers read"</h2>
            <p class="muted">{format!("Hours in your time zone, {zone}.")}</p>
            <div class="chart-with-table">
                {chart(reads_by_hour, format!("Reads by hour of day ({zone})"))}
                <details>
                    <summary>"Reads per hour"</summary>
                    <table class="numbers" aria-label="Reads by hour"><thead><tr><th scope="col">"Hour"</th><th scope="col">"Reads"</th></tr></thead><tbody>{hour_rows}</tbody></table>
                </details>
            </div>
            <p><a href=csv("hours") download>"Download CSV (reads by hour)"</a></p>
        </section>
        <section class="insight" aria-labelledby="audience-title">
            <h2 id="audience-title">"Audience"</h2>
            <div class="chart-with-table">
                {chart(notifications, "Notification settings".into())}
                <table class="numbers" aria-label="Notification settings"><thead><tr><th scope="col">"Setting"</th><th scope="col">"Subscribers"</th></tr></thead><tbody>{flag_rows}</tbody></table>
            </div>
            <p><a href=csv("notifications") download>"Download CSV (notification settings)"</a></p>
            <div class="chart-with-table">
                {chart(sources, "Subscriptions by source".into())}
                <table class="numbers" aria-label="Subscriptions by source"><thead><tr><th scope="col">"Source"</th><th scope="col">"Subscribed"</th></tr></thead><tbody>{source_rows}{no_sources}</tbody></table>
            </div>
            <p><a href=csv("sources") download>"Download CSV (sources)"</a></p>
        </section>
        <section class="insight" aria-labelledby="posts-title">
            <h2 id="posts-title">"Posts"</h2>
            {no_posts}
            <div class="table-scroll" tabindex="0" role="region" aria-label="Posts, scrolls sideways">
                <table class="numbers posts-insights" aria-label="Posts">
                    <thead><tr>
                        {header("Sent", SortBy::Sent)}
                        <th scope="col">"Type"</th>
                        <th scope="col">"Post"</th>
                        {header("Recipients", SortBy::Recipients)}
                        {header("Delivered live", SortBy::Live)}
                        {header("Reads", SortBy::Reads)}
                        {header("Read rate", SortBy::ReadRate)}
                        {header("Reactions", SortBy::Reactions)}
                    </tr></thead>
                    <tbody>{post_rows}</tbody>
                </table>
            </div>
            {more}
            <p><a href=csv("posts") download>"Download CSV (posts)"</a></p>
        </section>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hours_move_to_the_viewers_zone() {
        let mut utc = vec![0; 24];
        utc[23] = 5; // 23:00 UTC
        assert_eq!(shift_hours(&utc, 120)[1], 5, "01:00 in UTC+2");
        assert_eq!(shift_hours(&utc, -300)[18], 5, "18:00 in UTC-5");
        assert_eq!(shift_hours(&utc, 330)[4], 5, "UTC+05:30 rounds down to 04:00");
        assert_eq!(shift_hours(&utc, 0), utc);
    }

    #[test]
    fn zones_and_sources_read_as_words() {
        assert_eq!((zone_name(0), zone_name(330), zone_name(-300)), ("UTC".into(), "UTC+05:30".into(), "UTC-05:00".into()));
        assert_eq!(source_label("link:Spring fair"), "Invite link \u{201c}Spring fair\u{201d}");
        assert_eq!(source_label("api"), "REST API");
    }
}

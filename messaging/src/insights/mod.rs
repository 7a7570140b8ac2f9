//! Insights: what an editor learns back about an account and its posts (docs/insights.md).
//!
//! Every figure is a counter written with the event that moves it — a subscription, a reaction,
//! a message, a broadcast, a push batch, a broadcast's live fan-out — so reading them sums a few
//! hundred small rows and never counts subscriptions or per-recipient rows, at any audience
//! size. Read marks are the one event too frequent for that: each is journaled in its own
//! transaction and added to the counters at least once a second, by whichever node gets there
//! first, in the transaction that deletes the journal rows (`reads`). A crash loses none and
//! counts none twice.
//!
//! Here: the figures as the REST API and the console carry them, the UTC [`Day`] and the
//! subscription [`Source`], pure so the console's WebAssembly shares them. With `backend`:
//! [`Insights`], the area's handle (`counters` writes, `figures` reads, `reads` flushes).

use crate::error::InvalidField;
use serde::{Deserialize, Serialize};
use std::fmt;

#[cfg(feature = "testing")]
mod bench;
#[cfg(feature = "backend")]
mod counters;
#[cfg(feature = "backend")]
mod figures;
#[cfg(feature = "backend")]
mod reads;
#[cfg(all(test, feature = "backend"))]
mod tests;

#[cfg(feature = "backend")]
pub(crate) use counters::{count_day, count_for_post, count_msg_flag, count_post, count_subscribed, journal_read, DayCounter, PostCounter};
#[cfg(feature = "backend")]
pub use figures::SentPost;

/// At most this many days per question (`get_account_insights`).
pub const RANGE_MAX_DAYS: i64 = 366;
/// At most this many posts per question (`get_post_insights`), as in a recall.
pub const POSTS_MAX: usize = 100;
const SECS_PER_DAY: i64 = 86_400;

/// A UTC day, counted from 1970-01-01; written `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Day(i64);

const DAY_FORMAT: &[time::format_description::FormatItem<'static>] = time::macros::format_description!("[year]-[month]-[day]");

impl Day {
    /// The day a Unix time falls on.
    pub fn of_time(unix_secs: i64) -> Self {
        Day(unix_secs.div_euclid(SECS_PER_DAY))
    }

    /// The UTC hour of day (0–23) of a Unix time.
    pub fn hour_of(unix_secs: i64) -> i64 {
        unix_secs.rem_euclid(SECS_PER_DAY) / 3600
    }

    pub fn from_number(days: i64) -> Self {
        Day(days)
    }

    /// Days since 1970-01-01 (what is stored).
    pub fn number(self) -> i64 {
        self.0
    }

    /// The Unix time this day starts at.
    pub fn start(self) -> i64 {
        self.0 * SECS_PER_DAY
    }

    pub fn plus(self, days: i64) -> Self {
        Day(self.0 + days)
    }

    /// Parses `YYYY-MM-DD`; `field` names the input in the refusal.
    pub fn parse(field: &str, text: &str) -> Result<Self, InvalidField> {
        let date = time::Date::parse(text, DAY_FORMAT)
            .map_err(|_| InvalidField::new(field, format!("must be a date written YYYY-MM-DD (got {text:?})")))?;
        Ok(Day(i64::from(date.to_julian_day()) - i64::from(EPOCH_JULIAN_DAY)))
    }
}

/// 1970-01-01 as a Julian day number.
const EPOCH_JULIAN_DAY: i32 = 2_440_588;

impl fmt::Display for Day {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let julian = i32::try_from(self.0 + i64::from(EPOCH_JULIAN_DAY)).ok();
        match julian.and_then(|j| time::Date::from_julian_day(j).ok()).and_then(|d| d.format(DAY_FORMAT).ok()) {
            Some(text) => f.write_str(&text),
            None => write!(f, "day {}", self.0),
        }
    }
}

impl Serialize for Day {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Day {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Day::parse("date", &text).map_err(serde::de::Error::custom)
    }
}

/// The days from `from` to `to`, both included: at most [`RANGE_MAX_DAYS`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayRange {
    pub from: Day,
    pub to: Day,
}

impl DayRange {
    /// `From` and `To` as the REST API names them.
    pub fn parse(from: &str, to: &str) -> Result<Self, InvalidField> {
        Self::new(Day::parse("From", from)?, Day::parse("To", to)?)
    }

    pub fn new(from: Day, to: Day) -> Result<Self, InvalidField> {
        if to < from {
            return Err(InvalidField::new("To", format!("must not be before From ({from})")));
        }
        let days = to.0 - from.0 + 1;
        if days > RANGE_MAX_DAYS {
            return Err(InvalidField::new("To", format!("at most {RANGE_MAX_DAYS} days from From (got {days})")));
        }
        Ok(Self { from, to })
    }

    /// The last `days` days up to and including `today` (the console's 7 / 30 / 90 days).
    pub fn last(days: i64, today: Day) -> Self {
        Self { from: today.plus(1 - days.clamp(1, RANGE_MAX_DAYS)), to: today }
    }

    pub fn days(&self) -> impl Iterator<Item = Day> {
        (self.from.0..=self.to.0).map(Day)
    }
}

/// Where a subscription came from.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Source {
    /// REST `add_subscriber`.
    Api,
    /// The client protocol's `subscribeOfficialAccount`.
    App,
    /// The console's Add subscribers.
    Console,
    /// An invite link, by its name.
    Link(String),
}

impl Source {
    /// `api`, `app`, `console` or `link:{name}`, as stored and as the REST API spells it.
    pub fn as_string(&self) -> String {
        match self {
            Source::Api => "api".into(),
            Source::App => "app".into(),
            Source::Console => "console".into(),
            Source::Link(name) => format!("link:{name}"),
        }
    }
}

/// One UTC day of an account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DayFigures {
    pub date: Day,
    pub subscribed: i64,
    pub unsubscribed: i64,
    /// Subscribers at the day's end.
    pub total: i64,
    /// Post reads that day (a subscriber reading three posts adds three).
    pub reads: i64,
    /// Reactions added.
    pub reactions: i64,
    /// One-to-one messages from subscribers.
    pub messages_in: i64,
    /// One-to-one messages from the account.
    pub replies: i64,
    /// Broadcasts sent.
    pub posts: i64,
}

/// Subscriptions of a range by where they came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceFigure {
    /// `api`, `app`, `console`, `link:{name}` (or `""`: from before sources were recorded).
    pub source: String,
    pub subscribed: i64,
}

/// Subscribers now, by receive option.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MsgFlagFigures {
    pub accept_and_notify: i64,
    pub accept_not_notify: i64,
    pub discard: i64,
}

impl MsgFlagFigures {
    pub fn total(&self) -> i64 {
        self.accept_and_notify + self.accept_not_notify + self.discard
    }
}

/// An account's figures over a range of days, and now.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccountInsights {
    pub range: DayRange,
    /// One per day of the range, oldest first.
    pub days: Vec<DayFigures>,
    /// Subscriptions made in the range, by source, most first.
    pub by_source: Vec<SourceFigure>,
    pub msg_flags: MsgFlagFigures,
    /// Post reads in the range by UTC hour of day (24 numbers).
    pub reads_by_hour: Vec<i64>,
    /// Subscribers with an open client connection, on every live node.
    pub online_now: i64,
}

impl AccountInsights {
    pub fn subscribers(&self) -> i64 {
        self.msg_flags.total()
    }

    /// Subscribed minus unsubscribed over the range.
    pub fn net_change(&self) -> i64 {
        self.days.iter().map(|d| d.subscribed - d.unsubscribed).sum()
    }
}

/// One reaction's count on a post.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReactionFigure {
    pub reaction_id: String,
    pub count: i64,
}

/// What one broadcast reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PostFigures {
    pub msg_key: String,
    pub msg_time: i64,
    /// Subscribers when it was sent.
    pub recipients: i64,
    /// Distinct users with an open connection it was written to, summed over nodes.
    pub delivered_live: i64,
    /// Subscribers an offline push was requested for.
    pub pushed: i64,
    /// Subscribers whose read position reached it.
    pub reads: i64,
    pub reactions: Vec<ReactionFigure>,
    /// Recalled since (the console marks it; REST keeps answering its figures).
    pub recalled: bool,
}

impl PostFigures {
    /// Reads per recipient, 0–1 (None without recipients).
    pub fn read_rate(&self) -> Option<f64> {
        (self.recipients > 0).then(|| self.reads as f64 / self.recipients as f64)
    }

    pub fn reaction_total(&self) -> i64 {
        self.reactions.iter().map(|r| r.count).sum()
    }
}

/// The handle of this area, from [`crate::Messaging::insights`]: it holds the store, this
/// node's clock and its name among the nodes, and nothing of the other areas.
#[cfg(feature = "backend")]
#[derive(Clone)]
pub struct Insights {
    store: crate::store::Store,
    clock: crate::clock::Clock,
    node_id: std::sync::Arc<str>,
    stopping: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

#[cfg(feature = "backend")]
impl Insights {
    pub(crate) fn new(
        store: crate::store::Store,
        clock: crate::clock::Clock,
        node_id: std::sync::Arc<str>,
        stopping: std::sync::Arc<std::sync::atomic::AtomicBool>,
    ) -> Self {
        Self { store, clock, node_id, stopping }
    }

    /// Today, by this node's clock.
    pub fn today(&self) -> Day {
        Day::of_time(self.clock.now())
    }
}

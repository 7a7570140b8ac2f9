//! Polls (docs/rest-api.md §9): a fourth post type. A poll travels as an ordinary broadcast whose
//! `MsgBody` is a `TIMTextElem` with the question and numbered options (so a client that knows
//! nothing of polls still shows something right) and a `TIMCustomElem` whose `Data` is the poll
//! itself (`{"herald":"poll","v":1,…}`). The body is the poll's definition; the database keeps
//! only what voting needs (closing time, choice rule) and the counts.
//!
//! The rules here are pure, so the composer checks a poll with the server's own function. With
//! `backend`, [`Polls`] (from `Messaging::polls`) stores polls as they are sent, takes votes and
//! reads results: a count per option and the number of voters, updated in each vote's
//! transaction like reactions, so results of a poll with a million voters are a dozen rows.

#[cfg(feature = "backend")]
mod votes;

use crate::error::InvalidField;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[cfg(feature = "backend")]
pub(crate) use votes::store_poll;
#[cfg(feature = "backend")]
pub use votes::Polls;

/// The question's longest form, in bytes.
pub const QUESTION_MAX_BYTES: usize = 255;
/// An option's longest text, in bytes.
pub const OPTION_MAX_BYTES: usize = 100;
pub const OPTIONS_MIN: usize = 2;
pub const OPTIONS_MAX: usize = 12;
/// An option ID's longest form (the composer uses `a`…`l`; a REST sender may choose its own).
pub const OPTION_ID_MAX_BYTES: usize = 16;
/// The custom element's `herald` value and version.
const MARKER: &str = "poll";
const MARKER_VERSION: i64 = 1;

/// One option of a poll.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PollOption {
    pub id: String,
    pub text: String,
}

/// A poll's definition, as the custom element carries it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Poll {
    pub question: String,
    pub options: Vec<PollOption>,
    /// Several options may be chosen.
    pub multiple: bool,
    /// Unix seconds; 0: open until recalled.
    pub closes_at: i64,
}

/// The ID the composer gives the option at `index`: `a`, `b`, … (reordering renames them,
/// which is fine before the poll is sent).
pub fn option_id(index: usize) -> String {
    char::from(b'a' + (index % 26) as u8).to_string()
}

impl Poll {
    /// A poll from the composer's fields, its options named `a`, `b`, … in order.
    pub fn from_texts(question: &str, texts: &[String], multiple: bool, closes_at: i64) -> Self {
        Self {
            question: question.to_owned(),
            options: texts.iter().enumerate().map(|(i, t)| PollOption { id: option_id(i), text: t.clone() }).collect(),
            multiple,
            closes_at,
        }
    }

    /// Checks the poll's shape; `field` names it in the refusal (`MsgBody` on REST, `Poll` in
    /// the composer). `now`: refuse a closing time that has passed (None: not checked).
    pub fn check(&self, field: &str, now: Option<i64>) -> Result<(), InvalidField> {
        let question = self.question.trim();
        if question.is_empty() {
            return Err(InvalidField::new(field, "A poll needs a question."));
        }
        if self.question.len() > QUESTION_MAX_BYTES {
            return Err(InvalidField::new(
                field,
                format!("The poll's question is {} bytes; the limit is {QUESTION_MAX_BYTES}.", self.question.len()),
            ));
        }
        let n = self.options.len();
        if !(OPTIONS_MIN..=OPTIONS_MAX).contains(&n) {
            return Err(InvalidField::new(field, format!("A poll has {OPTIONS_MIN} to {OPTIONS_MAX} options (this one has {n}).")));
        }
        for (i, o) in self.options.iter().enumerate() {
            let at = i + 1;
            if o.text.trim().is_empty() {
                return Err(InvalidField::new(field, format!("Option {at} of the poll is empty.")));
            }
            if o.text.len() > OPTION_MAX_BYTES {
                return Err(InvalidField::new(
                    field,
                    format!("Option {at} of the poll is {} bytes; the limit is {OPTION_MAX_BYTES}.", o.text.len()),
                ));
            }
            let id_ok = !o.id.is_empty()
                && o.id.len() <= OPTION_ID_MAX_BYTES
                && o.id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
            if !id_ok {
                return Err(InvalidField::new(
                    field,
                    format!("Option {at}'s id must be 1 to {OPTION_ID_MAX_BYTES} of a-z A-Z 0-9 _ - (got {:?}).", o.id),
                ));
            }
            if self.options[..i].iter().any(|p| p.id == o.id) {
                return Err(InvalidField::new(field, format!("Two options of the poll have the id {:?}.", o.id)));
            }
            if self.options[..i].iter().any(|p| p.text.trim() == o.text.trim()) {
                return Err(InvalidField::new(field, format!("Option {at} of the poll repeats an earlier one.")));
            }
        }
        if self.closes_at < 0 {
            return Err(InvalidField::new(field, "The poll's closing time must be a Unix time in seconds, or 0 for none."));
        }
        if let Some(now) = now {
            if self.closes_at != 0 && self.closes_at <= now {
                return Err(InvalidField::new(field, "The poll's closing time has passed; choose a later one."));
            }
        }
        Ok(())
    }

    /// Whether votes are refused at `now`.
    pub fn is_closed(&self, now: i64) -> bool {
        self.closes_at != 0 && now >= self.closes_at
    }

    /// What a client that knows nothing of polls shows: the question and the numbered options.
    pub fn text_form(&self) -> String {
        let mut text = self.question.trim().to_owned();
        for (i, o) in self.options.iter().enumerate() {
            text.push_str(&format!("\n{}. {}", i + 1, o.text.trim()));
        }
        text
    }

    /// The custom element's `Data`.
    pub fn data(&self) -> Value {
        json!({
            "herald": MARKER,
            "v": MARKER_VERSION,
            "question": self.question,
            "options": self.options.iter().map(|o| json!({ "id": o.id, "text": o.text })).collect::<Vec<_>>(),
            "multiple": self.multiple,
            "closesAt": self.closes_at,
        })
    }

    /// The broadcast's `MsgBody`: the text form, then the poll element.
    pub fn to_msg_body(&self) -> Value {
        json!([
            { "MsgType": "TIMTextElem", "MsgContent": { "Text": self.text_form() } },
            { "MsgType": "TIMCustomElem", "MsgContent": { "Data": self.data().to_string(), "Desc": self.question.trim() } },
        ])
    }

    /// The poll a `MsgBody` carries: None when it has no poll element; the refusal when it
    /// has one that is not a valid poll (`field` names the body).
    pub fn from_msg_body(field: &str, body: &Value) -> Option<Result<Poll, InvalidField>> {
        let elements = body.as_array()?;
        let data = elements.iter().find_map(|e| {
            if e.get("MsgType").and_then(Value::as_str) != Some("TIMCustomElem") {
                return None;
            }
            let data: Value = serde_json::from_str(e.get("MsgContent")?.get("Data")?.as_str()?).ok()?;
            (data.get("herald").and_then(Value::as_str) == Some(MARKER)).then_some(data)
        })?;
        Some(Self::from_data(field, &data))
    }

    fn from_data(field: &str, data: &Value) -> Result<Poll, InvalidField> {
        let bad = |rule: &str| InvalidField::new(field, format!("The poll element is malformed: {rule}."));
        if data.get("v").and_then(Value::as_i64) != Some(MARKER_VERSION) {
            return Err(bad("\"v\" must be 1"));
        }
        let question = data.get("question").and_then(Value::as_str).ok_or_else(|| bad("\"question\" must be a string"))?;
        let options = data.get("options").and_then(Value::as_array).ok_or_else(|| bad("\"options\" must be an array"))?;
        let options = options
            .iter()
            .map(|o| {
                let id = o.get("id").and_then(Value::as_str);
                let text = o.get("text").and_then(Value::as_str);
                match (id, text) {
                    (Some(id), Some(text)) => Ok(PollOption { id: id.to_owned(), text: text.to_owned() }),
                    _ => Err(bad("each option must be {\"id\": string, \"text\": string}")),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        let multiple = match data.get("multiple") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => return Err(bad("\"multiple\" must be true or false")),
        };
        let closes_at = match data.get("closesAt") {
            None => 0,
            Some(v) => v.as_i64().ok_or_else(|| bad("\"closesAt\" must be an integer (Unix seconds, 0 for none)"))?,
        };
        let poll = Poll { question: question.to_owned(), options, multiple, closes_at };
        poll.check(field, None)?;
        Ok(poll)
    }

    /// Checks a vote's options against this poll (the same rule for every front door).
    pub fn check_vote(&self, option_ids: &[String]) -> Result<(), InvalidField> {
        for (i, id) in option_ids.iter().enumerate() {
            if !self.options.iter().any(|o| &o.id == id) {
                return Err(InvalidField::new("optionIDs", format!("the poll has no option {id:?}")));
            }
            if option_ids[..i].contains(id) {
                return Err(InvalidField::new("optionIDs", format!("option {id:?} is given twice")));
            }
        }
        if !self.multiple && option_ids.len() > 1 {
            return Err(InvalidField::new("optionIDs", "this poll takes one option; it is not multiple choice"));
        }
        Ok(())
    }
}

/// A poll's counts, as the console and Insights show them (voters stay anonymous).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct PollResults {
    /// Each option with its votes, in the poll's order.
    pub options: Vec<(PollOption, i64)>,
    /// Distinct users with a vote.
    pub voters: i64,
    pub multiple: bool,
    pub closes_at: i64,
}

impl PollResults {
    /// An option's share of the voters, in whole percent (0 with no voters).
    pub fn percent(&self, votes: i64) -> i64 {
        if self.voters == 0 {
            0
        } else {
            (votes * 100 + self.voters / 2) / self.voters
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poll(n: usize) -> Poll {
        Poll::from_texts("Lunch?", &(0..n).map(|i| format!("Option {i}")).collect::<Vec<_>>(), false, 0)
    }

    #[test]
    fn a_poll_goes_out_as_text_for_any_client_and_comes_back_the_same() {
        let p = Poll::from_texts("Where next?", &["Paris".into(), "Rome".into()], true, 2_000_000_000);
        let body = p.to_msg_body();
        assert_eq!(body[0]["MsgContent"]["Text"], "Where next?\n1. Paris\n2. Rome");
        let data: Value = serde_json::from_str(body[1]["MsgContent"]["Data"].as_str().unwrap()).unwrap();
        assert_eq!(data["herald"], "poll");
        assert_eq!(data["options"][1], json!({ "id": "b", "text": "Rome" }));
        assert_eq!(data["closesAt"], 2_000_000_000);
        assert_eq!(Poll::from_msg_body("MsgBody", &body), Some(Ok(p)));
        assert_eq!(Poll::from_msg_body("MsgBody", &json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": "x" } }])), None);
    }

    #[test]
    fn each_broken_rule_is_refused_with_a_sentence_naming_it() {
        let rule = |p: Poll| p.check("Poll", Some(100)).unwrap_err().rule;
        assert_eq!(rule(poll(1)), "A poll has 2 to 12 options (this one has 1).");
        assert_eq!(rule(poll(13)), "A poll has 2 to 12 options (this one has 13).");
        assert!(poll(12).check("Poll", None).is_ok());
        let mut p = poll(2);
        p.question = " ".into();
        assert_eq!(rule(p), "A poll needs a question.");
        let mut p = poll(2);
        p.question = "q".repeat(256);
        assert!(rule(p).contains("256 bytes"));
        let mut p = poll(3);
        p.options[2].text = "é".repeat(51);
        assert_eq!(rule(p), "Option 3 of the poll is 102 bytes; the limit is 100.");
        let mut p = poll(2);
        p.options[1].text = "Option 0".into();
        assert_eq!(rule(p), "Option 2 of the poll repeats an earlier one.");
        let mut p = poll(2);
        p.options[1].id = "a".into();
        assert_eq!(rule(p), "Two options of the poll have the id \"a\".");
        let mut p = poll(2);
        p.closes_at = 50;
        assert_eq!(rule(p), "The poll's closing time has passed; choose a later one.");
    }

    #[test]
    fn a_malformed_poll_element_is_refused_not_taken_for_a_plain_message() {
        let body = json!([{ "MsgType": "TIMCustomElem", "MsgContent": { "Data": "{\"herald\":\"poll\",\"v\":1,\"question\":\"q\",\"options\":[1,2]}" } }]);
        let e = Poll::from_msg_body("MsgBody", &body).unwrap().unwrap_err();
        assert_eq!(e.field, "MsgBody");
        assert!(e.rule.contains("each option"), "{}", e.rule);
    }

    #[test]
    fn a_vote_names_known_options_once_and_only_one_unless_multiple() {
        let mut p = poll(3);
        assert!(p.check_vote(&[]).is_ok(), "an empty vote withdraws");
        assert!(p.check_vote(&["b".into()]).is_ok());
        assert!(p.check_vote(&["a".into(), "b".into()]).unwrap_err().rule.contains("one option"));
        assert!(p.check_vote(&["z".into()]).unwrap_err().rule.contains("no option \"z\""));
        p.multiple = true;
        assert!(p.check_vote(&["a".into(), "b".into()]).is_ok());
        assert!(p.check_vote(&["a".into(), "a".into()]).unwrap_err().rule.contains("twice"));
    }

    #[test]
    fn a_poll_closes_at_its_time_and_never_without_one() {
        let mut p = poll(2);
        assert!(!p.is_closed(i64::MAX));
        p.closes_at = 100;
        assert!(!p.is_closed(99) && p.is_closed(100));
    }
}

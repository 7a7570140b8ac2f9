//! The hub's side of edits and polls (docs/rest-api.md §9): an edited post goes to every
//! connected subscriber as `onRecvMessageModified`, and poll votes become one `onPollChanged`
//! per poll per second. Each
//! carries the counts once for everyone, and a frame of its own for the few readers whose own
//! reactions or votes it includes.

use super::{Frame, Hub};
use crate::delivery::objects::{conversation_id, event_frame, Event, Message, ReactionCount};
use crate::delivery::writers::Outgoing;
use std::collections::{HashMap, HashSet};

impl Hub {
    /// `onRecvMessageModified` of broadcast `key` (as `message` now reads) for this node's
    /// subscribers of `account`.
    pub(super) async fn modified_frames(&self, account: &str, key: &str, mut message: Message) -> crate::Result<Outgoing> {
        let mut outgoing = Outgoing::default();
        let recipients: Vec<String> = self.lock().subscribers_here(account).iter().map(|u| u.to_string()).collect();
        if recipients.is_empty() {
            return Ok(outgoing);
        }
        message.poll = self.m.polls().state(&message).await?;
        let totals = self.m.reaction_totals(account, "", key).await?;
        let reacted = self.m.reactions_by(account, "", key, &recipients).await?;
        let voted = match &message.poll {
            Some(_) => self.m.polls().choices_of(account, message.key.seq, &recipients).await?,
            None => HashMap::new(),
        };
        let frame_for = |me: Option<&str>| -> Frame {
            let mut m = message.clone();
            m.reactions = totals
                .iter()
                .map(|(r, total)| ReactionCount {
                    reaction_id: r.clone(),
                    total: *total,
                    reacted_by_me: me.is_some_and(|me| reacted.iter().any(|(u, mr)| u == me && mr == r)),
                })
                .collect();
            if let (Some(poll), Some(me)) = (m.poll.as_mut(), me) {
                poll.my_votes = voted.get(me).cloned().unwrap_or_default();
            }
            event_frame(&Event::MessageModified { message: m.to_wire() }).into()
        };
        let shared = frame_for(None);
        let own: HashSet<&str> = reacted.iter().map(|(u, _)| u.as_str()).chain(voted.keys().map(String::as_str)).collect();
        let state = self.lock();
        for u in &recipients {
            if own.contains(u.as_str()) {
                state.send(u, &frame_for(Some(u)), None, &mut outgoing);
            } else {
                state.send(u, &shared, None, &mut outgoing);
            }
        }
        Ok(outgoing)
    }

    /// Sends one `onPollChanged` per poll voted in since the last flush: the counts are read
    /// once; `myVotes` is looked up for the recipients.
    pub(super) async fn flush_polls(&self) -> crate::Result<()> {
        let pending = std::mem::take(&mut *self.polls.lock().unwrap_or_else(|p| p.into_inner()));
        for (account, key) in pending {
            let recipients: Vec<String> = self.lock().subscribers_here(&account).iter().map(|u| u.to_string()).collect();
            if recipients.is_empty() {
                continue;
            }
            let Some(k) = crate::MsgKey::parse(&key) else { continue };
            let Some(message) = self.m.broadcast_message(&account, k.seq).await? else { continue };
            let Some(poll) = self.m.polls().state(&message).await? else { continue };
            let voted = self.m.polls().choices_of(&account, k.seq, &recipients).await?;
            let frame_for = |mine: Vec<String>| -> Frame {
                let mut poll = poll.clone();
                poll.my_votes = mine;
                event_frame(&Event::PollChanged { conversation_id: conversation_id(&account), msg_key: key.clone(), poll }).into()
            };
            let shared = frame_for(Vec::new());
            let mut outgoing = Outgoing::default();
            {
                let state = self.lock();
                for u in &recipients {
                    match voted.get(u) {
                        Some(mine) => state.send(u, &frame_for(mine.clone()), None, &mut outgoing),
                        None => state.send(u, &shared, None, &mut outgoing),
                    }
                }
            }
            let dropped = outgoing.write().await;
            self.drop_slow(dropped);
        }
        Ok(())
    }
}

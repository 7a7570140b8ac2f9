//! MsgKeys: `{seq}_{random}_{time}`, the one way Herald names a sent message. Broadcasts use
//! random 1 (`{seq}_1_{time}`); one-to-one messages their MsgRandom; a message that is not
//! stored (online only, or discarded by the app's webhook) has seq 0.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MsgKey {
    pub seq: i64,
    pub random: u64,
    pub time: i64,
}

impl MsgKey {
    /// A stored broadcast's key.
    pub fn broadcast(seq: i64, time: i64) -> Self {
        Self { seq, random: 1, time }
    }

    /// A one-to-one message's key.
    pub fn direct(seq: i64, random: i64, time: i64) -> Self {
        Self { seq, random: random.max(0) as u64, time }
    }

    /// A message sent at `time` that was not stored (no sequence number is spent on it).
    #[cfg(feature = "backend")]
    pub fn unstored(time: i64) -> Self {
        use rand::Rng;
        Self { seq: 0, random: u64::from(rand::thread_rng().gen::<u32>()), time }
    }

    /// Whether this names a stored broadcast (`{seq}_1_{time}`, seq from 1).
    pub fn is_broadcast(&self) -> bool {
        self.random == 1 && self.seq > 0
    }

    /// Reads `{seq}_{random}_{time}`; None for anything else.
    pub fn parse(key: &str) -> Option<Self> {
        let mut parts = key.split('_');
        let seq = parts.next()?.parse().ok()?;
        let random = parts.next()?.parse().ok()?;
        let time = parts.next()?.parse().ok()?;
        parts.next().is_none().then_some(Self { seq, random, time })
    }
}

impl fmt::Display for MsgKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}_{}_{}", self.seq, self.random, self.time)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn msg_keys_round_trip_and_malformed_keys_do_not_parse() {
        assert_eq!(MsgKey::broadcast(7, 1700000000).to_string(), "7_1_1700000000");
        assert_eq!(MsgKey::parse("7_1_1700000000"), Some(MsgKey::broadcast(7, 1700000000)));
        assert_eq!(MsgKey::direct(3, 99, 5).to_string(), "3_99_5");
        for bad in ["", "7", "7_1", "a_1_2", "7_1_2_3", "7_x_2", "7_-1_2"] {
            assert_eq!(MsgKey::parse(bad), None, "{bad}");
        }
    }
}

//! Rendered public pages and feeds, kept per account version for a few seconds: a page view
//! then costs one indexed row read (the version) and a copy. A new post, a recall or a profile
//! change makes a new version, so nothing stale is served after a change; reaction counts,
//! which do not change the version, are at most [`TTL`] old.

use axum::body::Bytes;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const TTL: Duration = Duration::from_secs(5);
/// Past this many entries the cache starts over (bounded memory whatever is asked).
const MAX_ENTRIES: usize = 4096;

#[derive(Default)]
pub struct PageCache(Mutex<HashMap<String, (String, Instant, Bytes)>>);

impl PageCache {
    /// The body kept for `key` at `version`, if fresh.
    pub fn get(&self, key: &str, version: &str) -> Option<Bytes> {
        let map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        map.get(key).filter(|(v, at, _)| v == version && at.elapsed() < TTL).map(|(_, _, body)| body.clone())
    }

    pub fn put(&self, key: String, version: String, body: Bytes) {
        let mut map = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if map.len() >= MAX_ENTRIES {
            map.clear();
        }
        map.insert(key, (version, Instant::now(), body));
    }
}

/// A short tag of a resource key for the ETag (`page:20` and `feed.atom` differ).
pub fn key_tag(key: &str) -> String {
    // FNV-1a: stable across processes, so every node gives the same ETag.
    let mut h: u32 = 0x811c9dc5;
    for b in key.bytes() {
        h ^= u32::from(b);
        h = h.wrapping_mul(0x01000193);
    }
    format!("{h:08x}")
}

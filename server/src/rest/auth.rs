//! The query string of a REST call and the admin's UserSig (docs/rest-api.md §1–2).

use super::envelope::RestError;
use messaging::Messaging;
use std::collections::HashMap;
use std::sync::Mutex;

/// The app's REST administrator, and the keys (in `messaging`, which rotates them) their
/// UserSigs are checked against.
pub struct RestIdentity {
    pub messaging: Messaging,
    pub admin_identifier: String,
    /// UserSigs already verified → (identifier, valid until), for keys of one generation (a
    /// rotation empties it). A back end reuses one UserSig for many calls; decompressing and
    /// hashing it each time would cost more than the call.
    pub verified: Mutex<(u64, HashMap<String, (String, i64)>)>,
}

impl RestIdentity {
    pub fn new(messaging: Messaging, admin_identifier: String) -> Self {
        Self { messaging, admin_identifier, verified: Mutex::new((0, HashMap::new())) }
    }
}

/// Entries kept at most; the cache starts over when full.
const VERIFIED_CACHE_MAX: usize = 4096;

/// Checks the query in the order Tencent documents: shape (60002), app (60006),
/// UserSig (70001/70003/70009/70013/70014), then administrator (60010).
pub fn authenticate(rest: &RestIdentity, raw_query: Option<&str>, now: i64) -> Result<(), RestError> {
    let params = query_pairs(raw_query.unwrap_or(""));
    let required = |name: &str| params.get(name).filter(|v| !v.is_empty()).ok_or_else(|| RestError::Query(format!("{name} is required")));
    let sdkappid_text = required("sdkappid")?;
    let identifier = required("identifier")?;
    let usersig = required("usersig")?;
    let sdkappid: u64 = sdkappid_text.parse().map_err(|_| RestError::Query("sdkappid must be a number".into()))?;
    if let Some(random) = params.get("random") {
        random.parse::<u32>().map_err(|_| RestError::Query("random must be a 32-bit unsigned integer".into()))?;
    }
    if let Some(ct) = params.get("contenttype") {
        if ct != "json" {
            return Err(RestError::Query("contenttype must be json".into()));
        }
    }
    if sdkappid != rest.messaging.sdkappid() {
        return Err(RestError::WrongApp);
    }
    let generation = rest.messaging.key_generation();
    let cached = {
        let verified = rest.verified.lock().unwrap_or_else(|p| p.into_inner());
        verified.0 == generation && verified.1.get(usersig.as_str()).is_some_and(|(who, until)| who == identifier && now <= *until)
    };
    if !cached {
        let check = rest.messaging.check_usersig(usersig, sdkappid, identifier, now).map_err(RestError::UserSig)?;
        let mut verified = rest.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.0 != check.generation || verified.1.len() >= VERIFIED_CACHE_MAX {
            *verified = (check.generation, HashMap::new());
        }
        verified.1.insert(usersig.clone(), (identifier.clone(), check.until));
    }
    if identifier != &rest.admin_identifier {
        return Err(RestError::NotAdmin);
    }
    Ok(())
}

/// Decoded query pairs (a client may percent-encode the UserSig's `*-_`, or not).
fn query_pairs(q: &str) -> HashMap<String, String> {
    form_urlencoded::parse(q.as_bytes()).into_owned().collect()
}

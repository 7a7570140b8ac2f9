//! The query string of a REST call and the admin's UserSig (rest-api.md §1–2).

use super::envelope::RestError;
use messaging::AppIdentity;
use std::collections::HashMap;
use std::sync::Mutex;

/// The app's REST identity and its administrator.
pub struct RestIdentity {
    pub identity: AppIdentity,
    pub admin_identifier: String,
    /// UserSigs already verified → (identifier, valid until). A back end reuses one UserSig for
    /// many calls; decompressing and hashing it each time would cost more than the call.
    pub verified: Mutex<HashMap<String, (String, i64)>>,
}

impl RestIdentity {
    pub fn new(identity: AppIdentity, admin_identifier: String) -> Self {
        Self { identity, admin_identifier, verified: Mutex::new(HashMap::new()) }
    }
}

/// Entries kept at most; the cache starts over when full.
const VERIFIED_CACHE_MAX: usize = 4096;

/// Checks the query in the order Tencent documents: shape (60002), app (60006),
/// UserSig (70001/70003/70009/70013/70014), then administrator (60010).
pub fn authenticate(rest: &RestIdentity, raw_query: Option<&str>, now: i64) -> Result<(), RestError> {
    let params = query_pairs(raw_query.unwrap_or(""));
    let required = |name: &str| {
        params.get(name).filter(|v| !v.is_empty()).ok_or_else(|| RestError::Query(format!("{name} is required")))
    };
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
    if sdkappid != rest.identity.sdkappid {
        return Err(RestError::WrongApp);
    }
    let cached = {
        let verified = rest.verified.lock().unwrap_or_else(|p| p.into_inner());
        verified.get(usersig.as_str()).is_some_and(|(who, until)| who == identifier && now <= *until)
    };
    if !cached {
        let until = messaging::usersig::verify_until(usersig, sdkappid, identifier, &rest.identity.secret_key, now)
            .map_err(RestError::UserSig)?;
        let mut verified = rest.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= VERIFIED_CACHE_MAX {
            verified.clear();
        }
        verified.insert(usersig.clone(), (identifier.clone(), until));
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

//! Console URLs of an account's pages. Account IDs carry `#` and `@`, so they are
//! percent-encoded in paths (and decoded from route parameters).

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but RFC 3986's unreserved characters is escaped.
const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC.remove(b'-').remove(b'_').remove(b'.').remove(b'~');

pub fn encode(s: &str) -> String {
    utf8_percent_encode(s, SEGMENT).to_string()
}

/// Decodes `%XX` escapes (a route parameter the router left encoded); malformed ones stay.
pub fn decode(s: &str) -> String {
    percent_decode_str(s).decode_utf8_lossy().into_owned()
}

pub fn account(id: &str) -> String {
    format!("/accounts/{}", encode(id))
}
pub fn posts(id: &str) -> String {
    format!("/accounts/{}/posts", encode(id))
}
pub fn new_post(id: &str) -> String {
    format!("/accounts/{}/posts/new", encode(id))
}
/// A draft (its ID) or a sent post (its MsgKey).
pub fn post(id: &str, post: &str) -> String {
    format!("/accounts/{}/posts/{}", encode(id), encode(post))
}
/// The composer on a sent post (its MsgKey).
pub fn edit_post(id: &str, msg_key: &str) -> String {
    format!("/accounts/{}/posts/{}/edit", encode(id), encode(msg_key))
}
pub fn insights(id: &str) -> String {
    format!("/accounts/{}/insights", encode(id))
}
pub fn subscribers(id: &str) -> String {
    format!("/accounts/{}/subscribers", encode(id))
}

#[cfg(test)]
mod tests {
    #[test]
    fn account_ids_round_trip_through_paths() {
        let id = "@TOA#_@TOA#abc 新";
        assert_eq!(super::account(id), "/accounts/%40TOA%23_%40TOA%23abc%20%E6%96%B0");
        assert_eq!(super::decode(&super::encode(id)), id);
        assert_eq!(super::decode("100%"), "100%");
    }
}

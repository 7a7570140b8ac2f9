//! Console URLs of an account's pages. Account IDs carry `#` and `@`, so they are
//! percent-encoded in paths (and decoded from route parameters).

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Decodes `%XX` escapes (a route parameter the router left encoded); malformed ones stay.
pub fn decode(s: &str) -> String {
    if !s.contains('%') {
        return s.to_owned();
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
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

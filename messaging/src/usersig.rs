//! UserSig (TLSSigAPIv2): the credential every REST call and client connection carries
//! (docs/rest-api.md §2). Herald verifies it; [`sign`] exists for tests and tooling.
//!
//! Wire form: JSON → zlib (RFC 1950) → standard base64 → `+`→`*`, `/`→`-`, `=`→`_`.
//! The HMAC key is the secret string's UTF-8 bytes, not hex-decoded.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::io::{Read, Write};

type HmacSha256 = Hmac<Sha256>;

/// Why a UserSig was refused; each maps to one Tencent code at the REST edge.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum UserSigError {
    #[error("UserSig expired")]
    Expired,
    #[error("UserSig cannot be parsed")]
    Malformed,
    #[error("UserSig signature does not verify")]
    BadSignature,
    #[error("identifier differs from the one in the UserSig")]
    IdentifierMismatch,
    #[error("SDKAppID differs from the one in the UserSig")]
    AppIdMismatch,
}

fn signed_text(identifier: &str, sdkappid: u64, time: i64, expire: i64, userbuf: Option<&str>) -> String {
    let mut text = format!("TLS.identifier:{identifier}\nTLS.sdkappid:{sdkappid}\nTLS.time:{time}\nTLS.expire:{expire}\n");
    if let Some(buf) = userbuf {
        text.push_str(&format!("TLS.userbuf:{buf}\n"));
    }
    text
}

fn hmac_of(key: &str, text: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(key.as_bytes()).expect("HMAC takes any key length");
    mac.update(text.as_bytes());
    mac
}

/// Makes a UserSig valid for `expire` seconds from `now` (Unix seconds).
pub fn sign(sdkappid: u64, key: &str, identifier: &str, expire: i64, now: i64) -> String {
    let text = signed_text(identifier, sdkappid, now, expire, None);
    let sig = STANDARD.encode(hmac_of(key, &text).finalize().into_bytes());
    let json = serde_json::json!({
        "TLS.ver": "2.0",
        "TLS.identifier": identifier,
        "TLS.sdkappid": sdkappid,
        "TLS.expire": expire,
        "TLS.time": now,
        "TLS.sig": sig,
    });
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    z.write_all(json.to_string().as_bytes()).expect("writing to a Vec cannot fail");
    let packed = STANDARD.encode(z.finish().expect("writing to a Vec cannot fail"));
    packed.replace('+', "*").replace('/', "-").replace('=', "_")
}

/// Checks `usersig` for this app, this identifier and this moment, in the order of docs/rest-api.md §2.
pub fn verify(usersig: &str, sdkappid: u64, identifier: &str, key: &str, now: i64) -> Result<(), UserSigError> {
    verify_until(usersig, sdkappid, identifier, key, now).map(|_| ())
}

/// [`verify`], answering the last second (Unix) the UserSig stays valid, so callers may cache it.
pub fn verify_until(usersig: &str, sdkappid: u64, identifier: &str, key: &str, now: i64) -> Result<i64, UserSigError> {
    let b64 = usersig.replace('*', "+").replace('-', "/").replace('_', "=");
    let packed = STANDARD.decode(b64.as_bytes()).map_err(|_| UserSigError::Malformed)?;
    let mut json = Vec::new();
    flate2::read::ZlibDecoder::new(packed.as_slice())
        .take(64 * 1024) // a UserSig is a few hundred bytes; refuse zip bombs
        .read_to_end(&mut json)
        .map_err(|_| UserSigError::Malformed)?;
    let doc: serde_json::Value = serde_json::from_slice(&json).map_err(|_| UserSigError::Malformed)?;

    let str_field = |name: &str| doc.get(name).and_then(|v| v.as_str()).ok_or(UserSigError::Malformed);
    let int_field = |name: &str| doc.get(name).and_then(|v| v.as_i64()).ok_or(UserSigError::Malformed);
    let sig_identifier = str_field("TLS.identifier")?;
    let sig_appid = doc.get("TLS.sdkappid").and_then(|v| v.as_u64()).ok_or(UserSigError::Malformed)?;
    let time = int_field("TLS.time")?;
    let expire = int_field("TLS.expire")?;
    let sig = STANDARD.decode(str_field("TLS.sig")?).map_err(|_| UserSigError::Malformed)?;
    let userbuf = match doc.get("TLS.userbuf") {
        None => None,
        Some(v) => Some(v.as_str().ok_or(UserSigError::Malformed)?),
    };

    if sig_appid != sdkappid {
        return Err(UserSigError::AppIdMismatch);
    }
    if sig_identifier != identifier {
        return Err(UserSigError::IdentifierMismatch);
    }
    if now > time.saturating_add(expire) {
        return Err(UserSigError::Expired);
    }
    let text = signed_text(sig_identifier, sig_appid, time, expire, userbuf);
    // `verify_slice` compares in constant time.
    hmac_of(key, &text).verify_slice(&sig).map_err(|_| UserSigError::BadSignature)?;
    Ok(time.saturating_add(expire))
}

#[cfg(test)]
mod tests {
    use super::*;

    // docs/rest-api.md §2: made by npm tls-sig-api-v2 1.0.2 with its clock fixed at 1700000000.
    const KEY: &str = "5bd2850fff3ecb11d7c805251c51ee463a25727bddc2385f3fa8bfee1bb93b5e";
    const VECTOR: &str = "eJyrVgrxCdYrSy1SslIy0jNQ0gHzM1NS80oy0zLBwhWZiflZpXlQqeKU7MSCgswUJStDEwMogMiUZOamKlkZmqOKplYUZBaBxE1NTY3gosWZ6UpWSj5ljuYp*p7l5unBxXnF2WVhVU4uAf7Ozi5JpX7O5SbuHuUhzgZJmQXaTia2SrUAohcx8g__";

    #[test]
    fn the_spec_test_vector_verifies() {
        assert_eq!(verify(VECTOR, 1_400_000_000, "xiaojun", KEY, 1_700_000_000), Ok(()));
    }

    #[test]
    fn the_spec_signature_is_the_hmac_we_compute() {
        let text = signed_text("xiaojun", 1_400_000_000, 1_700_000_000, 15_552_000, None);
        let sig = STANDARD.encode(hmac_of(KEY, &text).finalize().into_bytes());
        assert_eq!(sig, "LvA7d/Iw7gSsnskvVzBDPOCCDbuNCw4GHwTC0bip+B4=");
    }

    #[test]
    fn the_vector_expires_after_its_validity() {
        let end = 1_700_000_000 + 15_552_000;
        assert_eq!(verify(VECTOR, 1_400_000_000, "xiaojun", KEY, end), Ok(()));
        assert_eq!(verify(VECTOR, 1_400_000_000, "xiaojun", KEY, end + 1), Err(UserSigError::Expired));
    }

    #[test]
    fn each_mismatch_has_its_own_error() {
        let now = 1_700_000_000;
        assert_eq!(verify(VECTOR, 1_400_000_001, "xiaojun", KEY, now), Err(UserSigError::AppIdMismatch));
        assert_eq!(verify(VECTOR, 1_400_000_000, "someone", KEY, now), Err(UserSigError::IdentifierMismatch));
        assert_eq!(verify(VECTOR, 1_400_000_000, "xiaojun", "other-key", now), Err(UserSigError::BadSignature));
        assert_eq!(verify("not a usersig", 1_400_000_000, "xiaojun", KEY, now), Err(UserSigError::Malformed));
    }

    #[test]
    fn what_we_sign_we_verify() {
        let sig = sign(1_400_000_000, "k", "admin", 60, 1000);
        assert_eq!(verify(&sig, 1_400_000_000, "admin", "k", 1030), Ok(()));
        assert_eq!(verify(&sig, 1_400_000_000, "admin", "k", 1061), Err(UserSigError::Expired));
    }
}

//! How server functions' answers cross the network: JSON, always decoded from text.
//!
//! Why not server_fn's own `Json`: it decodes answers from bytes (`serde_json::from_slice`),
//! while a resource's value, sent inside the page for hydration, is decoded from text
//! (`serde_json::from_str`). Every type that travels both ways was compiled into the
//! WebAssembly twice, once per reader; one reader for both keeps one copy. Every server
//! function names this codec as its `output` (and the console's error type as its encoder).

use leptos::server_fn::codec::Post;
use leptos::server_fn::Bytes;
use leptos::server_fn::{ContentType, Decodes, Encodes, Format, FormatType};
use serde::{de::DeserializeOwned, Serialize};

/// JSON in the body, decoded from text on the way in.
pub struct JsonText;

impl ContentType for JsonText {
    const CONTENT_TYPE: &'static str = "application/json";
}

impl FormatType for JsonText {
    const FORMAT_TYPE: Format = Format::Text;
}

impl<T: Serialize> Encodes<T> for JsonText {
    type Error = serde_json::Error;

    fn encode(value: &T) -> Result<Bytes, Self::Error> {
        serde_json::to_vec(value).map(Bytes::from)
    }
}

impl<T: DeserializeOwned> Decodes<T> for JsonText {
    type Error = serde_json::Error;

    fn decode(bytes: Bytes) -> Result<T, Self::Error> {
        let text = std::str::from_utf8(&bytes).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        serde_json::from_str(text)
    }
}

/// A server function's answer as JSON in a `POST` body (its arguments stay as they are).
pub type Json = Post<JsonText>;

//! What the composer needs from the browser itself (WebAssembly only): the body's selection,
//! uploads with progress (XMLHttpRequest reports upload progress; fetch does not), the local
//! time zone, and the address bar.

use leptos::prelude::*;
use leptos::wasm_bindgen::{closure::Closure, JsCast, JsValue};
use leptos::web_sys;
use messaging::post::PostImage;

pub const BODY_ID: &str = "post-body";

fn body_area() -> Option<web_sys::HtmlTextAreaElement> {
    document().get_element_by_id(BODY_ID)?.dyn_into().ok()
}

/// The body's selection as byte offsets into `text` (the browser counts UTF-16 units).
pub fn selection(text: &str) -> (usize, usize) {
    let Some(area) = body_area() else { return (text.len(), text.len()) };
    let to_byte = |utf16: u32| {
        let mut units = 0u32;
        for (i, c) in text.char_indices() {
            if units >= utf16 {
                return i;
            }
            units += c.len_utf16() as u32;
        }
        text.len()
    };
    let start = area.selection_start().ok().flatten().unwrap_or(u32::MAX);
    let end = area.selection_end().ok().flatten().unwrap_or(u32::MAX);
    (to_byte(start), to_byte(end))
}

/// Puts the caret (or a selection) at byte offsets of the body, after Leptos updated it.
pub fn select(text: String, start: usize, end: usize) {
    request_animation_frame(move || {
        if let Some(area) = body_area() {
            let units = |b: usize| text[..b.min(text.len())].encode_utf16().count() as u32;
            let _ = area.focus();
            let _ = area.set_selection_range(units(start), units(end));
        }
    });
}

/// Replaces the address bar's path without a navigation (a new draft got its ID).
pub fn replace_path(path: &str) {
    if let Ok(history) = window().history() {
        let _ = history.replace_state_with_url(&JsValue::NULL, "", Some(path));
    }
}

/// "Europe/Berlin (UTC+01:00)" for the browser's time zone.
pub fn time_zone() -> String {
    let offset = -js_sys::Date::new_0().get_timezone_offset() as i64;
    let sign = if offset < 0 { '-' } else { '+' };
    let name = js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new()).resolved_options();
    let name = js_sys::Reflect::get(&name, &"timeZone".into()).ok().and_then(|v| v.as_string()).unwrap_or_default();
    format!("{name} (UTC{sign}{:02}:{:02})", offset.abs() / 60, offset.abs() % 60)
}

/// A `datetime-local` value (local time) as Unix seconds, if it is one.
pub fn local_to_unix(value: &str) -> Option<i64> {
    if value.is_empty() {
        return None;
    }
    let ms = js_sys::Date::new(&JsValue::from_str(value)).get_time();
    ms.is_finite().then_some((ms / 1000.0) as i64)
}

/// Unix seconds as a `datetime-local` value in local time.
pub fn unix_to_local(unix: i64) -> String {
    let d = js_sys::Date::new(&JsValue::from_f64(unix as f64 * 1000.0));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        d.get_full_year(),
        d.get_month() + 1,
        d.get_date(),
        d.get_hours(),
        d.get_minutes(),
        d.get_seconds()
    )
}

/// Files chosen in the picker or dropped on the composer.
pub fn files(list: Option<web_sys::FileList>) -> Vec<web_sys::File> {
    let Some(list) = list else { return vec![] };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// Uploads `file` to `POST /media` for `account` (none: the avatar of an account not created
/// yet), reporting progress (0–100) and then the stored image or the server's sentence.
pub fn upload(
    file: web_sys::File,
    purpose: &str,
    account: Option<&str>,
    on_progress: impl Fn(u32) + 'static,
    on_done: impl FnOnce(Result<PostImage, String>) + 'static,
) {
    let Ok(xhr) = web_sys::XmlHttpRequest::new() else {
        on_done(Err("This browser cannot upload files.".into()));
        return;
    };
    let mut url = String::from(if purpose == "avatar" { "/media?for=avatar" } else { "/media?for=post" });
    if let Some(account) = account {
        url.push_str("&account=");
        url.push_str(&percent_encoding::utf8_percent_encode(account, percent_encoding::NON_ALPHANUMERIC).to_string());
    }
    if xhr.open("POST", &url).is_err() {
        on_done(Err("The upload could not start.".into()));
        return;
    }
    let progress = Closure::<dyn Fn(web_sys::ProgressEvent)>::new(move |ev: web_sys::ProgressEvent| {
        if ev.length_computable() && ev.total() > 0.0 {
            on_progress((ev.loaded() / ev.total() * 100.0).round() as u32);
        }
    });
    if let Ok(upload) = xhr.upload() {
        upload.set_onprogress(Some(progress.as_ref().unchecked_ref()));
    }
    let request = xhr.clone();
    let on_done = std::cell::RefCell::new(Some(on_done));
    let finished = Closure::<dyn Fn()>::new(move || {
        let Some(done) = on_done.borrow_mut().take() else { return };
        let status = request.status().unwrap_or(0);
        let text = request.response_text().ok().flatten().unwrap_or_default();
        let result = if status == 200 {
            serde_json::from_str::<PostImage>(&text).map_err(|_| "The server's answer was not understood.".to_owned())
        } else if status == 413 {
            Err("The file is too large.".to_owned())
        } else {
            Err(serde_json::from_str::<serde_json::Value>(&text)
                .ok()
                .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_owned))
                .unwrap_or_else(|| format!("The upload failed (HTTP {status}).")))
        };
        done(result);
    });
    xhr.set_onloadend(Some(finished.as_ref().unchecked_ref()));
    // The request owns the closures from here on.
    progress.forget();
    finished.forget();
    // A send that cannot start still ends in `loadend`, with status 0.
    let _ = xhr.send_with_opt_blob(Some(&file));
}

//! Image uploads over HTTP: checked by content, bounded, stored in the database and served
//! immutable by content hash; only a signed-in, same-site console may upload.

use crate::helpers::*;

pub fn png(width: u32, height: u32) -> Vec<u8> {
    let image = image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut bytes = Vec::new();
    image::DynamicImage::ImageRgb8(image).write_to(&mut std::io::Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

/// `POST /media` as the console's page sends it (same origin, the session cookie).
pub async fn upload(app: &TestApp, cookie: Option<&str>, bytes: Vec<u8>, query: &str) -> reqwest::Response {
    let mut req = client().post(format!("{}/media{query}", app.base)).header("origin", &app.base).body(bytes);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

#[tokio::test]
async fn an_uploaded_png_is_stored_in_three_versions_and_served_immutable_by_hash() {
    let app = spawn_app().await;
    let cookie = signed_in(&app).await;
    let res = upload(&app, Some(&cookie), png(1500, 500), "").await;
    assert_eq!(res.status(), 200);
    let image: serde_json::Value = res.json().await.unwrap();
    let sides: Vec<(u64, u64)> = ["original", "large", "thumbnail"]
        .iter()
        .map(|v| (image[v]["width"].as_u64().unwrap(), image[v]["height"].as_u64().unwrap()))
        .collect();
    assert_eq!(sides, [(1500, 500), (1080, 360), (200, 67)]);
    let url = image["large"]["url"].as_str().unwrap();
    assert!(url.starts_with(&format!("{}/media/", app.base)) && url.ends_with(".png"), "{url}");

    let served = reqwest::get(url).await.unwrap();
    assert_eq!(served.status(), 200);
    let h = served.headers();
    assert_eq!(h["content-type"], "image/png");
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert!(h["cache-control"].to_str().unwrap().contains("immutable"));
    assert_eq!(served.bytes().await.unwrap().len() as u64, image["large"]["size"].as_u64().unwrap());

    // The same hash under another type, or an unknown hash, is not found.
    let as_jpeg = url.replace(".png", ".jpg");
    assert_eq!(reqwest::get(&as_jpeg).await.unwrap().status(), 404);
    assert_eq!(reqwest::get(format!("{}/media/{}.png", app.base, "0".repeat(64))).await.unwrap().status(), 404);
    assert_eq!(reqwest::get(format!("{}/media/..%2Fherald.db", app.base)).await.unwrap().status(), 404);
}

#[tokio::test]
async fn a_text_file_a_bomb_and_an_oversized_file_are_refused_with_sentences() {
    let app = spawn_app_with(|c| c.upload_max_bytes = 200_000).await;
    let cookie = signed_in(&app).await;
    let text = upload(&app, Some(&cookie), b"hello, I am a text file named photo.png".to_vec(), "").await;
    assert_eq!(text.status(), 422);
    assert_eq!(text.json::<serde_json::Value>().await.unwrap()["error"], "This file is not a JPEG, PNG, GIF or WebP image.");

    // A tiny PNG whose header claims 60000×60000 pixels.
    let mut bomb = png(2, 2);
    bomb[16..20].copy_from_slice(&60_000u32.to_be_bytes());
    bomb[20..24].copy_from_slice(&60_000u32.to_be_bytes());
    let crc = crc32(&bomb[12..29]);
    bomb[29..33].copy_from_slice(&crc.to_be_bytes());
    let refused = upload(&app, Some(&cookie), bomb, "").await;
    assert_eq!(refused.status(), 422);
    let said = refused.json::<serde_json::Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert_eq!(said, "The image is 60000×60000 pixels; the limit is 40 megapixels.");

    let big = upload(&app, Some(&cookie), vec![0u8; 250_000], "").await;
    assert_eq!(big.status(), 422);
    assert!(big.text().await.unwrap().contains("the limit is"));
    let huge = upload(&app, Some(&cookie), vec![0u8; 2_000_000], "").await;
    assert_eq!(huge.status(), 413, "far over the limit the body is not even read");
}

/// PNG's CRC-32 (zlib's).
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = flate2::Crc::new();
    crc.update(bytes);
    crc.sum()
}

#[tokio::test]
async fn only_a_signed_in_same_site_console_may_upload() {
    let app = spawn_app().await;
    let signed_out = upload(&app, None, png(10, 10), "").await;
    assert_eq!(signed_out.status(), 401);
    let cookie = signed_in(&app).await;
    let cross_site = client()
        .post(format!("{}/media", app.base))
        .header("origin", "https://evil.example")
        .header("cookie", &cookie)
        .body(png(10, 10))
        .send()
        .await
        .unwrap();
    assert_eq!(cross_site.status(), 403);
    let avatar = upload(&app, Some(&cookie), png(300, 120), "?for=avatar").await;
    let image: serde_json::Value = avatar.json().await.unwrap();
    assert_eq!((image["original"]["width"].as_u64(), image["original"]["height"].as_u64()), (Some(512), Some(512)));
}

/// Invites `username` as `role` on `accounts` (comma-separated) and accepts; their cookie.
async fn a_team_member(app: &TestApp, admin: &str, username: &str, role: &str, accounts: &str) -> String {
    let res = server_fn(app, "invite_user", &[("username", username), ("role", role), ("accounts", accounts)], Some(admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
    let link: String = res.json().await.unwrap();
    accept_invitation(app, &link, "correct horse battery staple").await.expect("accepted")
}

fn query_for(account: &str, purpose: &str) -> String {
    format!("?for={purpose}&account={}", form_urlencoded(&[("", account)]).trim_start_matches('='))
}

#[tokio::test]
async fn an_upload_needs_the_right_to_publish_on_its_account_or_to_manage_it_for_an_avatar() {
    let app = spawn_app().await;
    let a = app.an_account("owner", "@TOA#_uploada", "Uploads A").await;
    let b = app.an_account("owner", "@TOA#_uploadb", "Uploads B").await;
    let admin = signed_in(&app).await;
    // An editor was once let upload with no account at all: the check asked only "not a viewer".
    let editor = a_team_member(&app, &admin, "editor.a", "editor", &a).await;
    let unassigned = a_team_member(&app, &admin, "editor.none", "editor", &b).await;
    let res = server_fn(&app, "assign_person", &[("id", &b), ("username", "editor.none"), ("assign", "false")], Some(&admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
    let viewer = a_team_member(&app, &admin, "viewer.a", "viewer", &a).await;

    let status = |res: reqwest::Response| res.status().as_u16();
    assert_eq!(status(upload(&app, Some(&editor), png(20, 20), &query_for(&a, "post")).await), 200, "A's editor, for A");
    assert_eq!(status(upload(&app, Some(&editor), png(20, 20), &query_for(&b, "post")).await), 403, "A's editor, for B");
    assert_eq!(status(upload(&app, Some(&editor), png(20, 20), "?for=post").await), 403, "A's editor, for no account");
    assert_eq!(status(upload(&app, Some(&unassigned), png(20, 20), "?for=post").await), 403, "an editor with no account");
    assert_eq!(status(upload(&app, Some(&viewer), png(20, 20), &query_for(&a, "post")).await), 403, "A's viewer");
    assert_eq!(status(upload(&app, Some(&editor), png(20, 20), &query_for(&a, "avatar")).await), 403, "an editor cannot change A's avatar");
    assert_eq!(status(upload(&app, Some(&editor), png(20, 20), "?for=avatar").await), 403, "an editor cannot create accounts");
    assert_eq!(status(upload(&app, Some(&admin), png(20, 20), &query_for(&a, "avatar")).await), 200, "the platform owner, A's avatar");
    let refused = upload(&app, Some(&unassigned), png(20, 20), "?for=post").await;
    let body: serde_json::Value = refused.json().await.unwrap();
    assert_eq!(body["error"], "Your role cannot publish for this official account.");
    let malformed = upload(&app, Some(&admin), png(20, 20), "?for=post&account=nope").await;
    assert_eq!(malformed.status(), 400);
}

/// An animated GIF of `frames` frames, each a different colour.
fn animated_gif(width: u32, height: u32, frames: u8) -> Vec<u8> {
    let mut bytes = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new_with_speed(&mut bytes, 10);
        encoder.set_repeat(image::codecs::gif::Repeat::Infinite).unwrap();
        for n in 0..frames {
            let pixels = image::RgbaImage::from_pixel(width, height, image::Rgba([n.wrapping_mul(80), 40, 200, 255]));
            let delay = image::Delay::from_numer_denom_ms(100, 1);
            encoder.encode_frame(image::Frame::from_parts(pixels, 0, 0, delay)).unwrap();
        }
    }
    bytes
}

fn frame_count(gif: &[u8]) -> usize {
    use image::AnimationDecoder;
    image::codecs::gif::GifDecoder::new(std::io::Cursor::new(gif)).unwrap().into_frames().count()
}

#[tokio::test]
async fn an_animated_gif_stays_animated_in_every_version_and_countless_frames_are_refused() {
    let app = spawn_app_with(|c| c.upload_max_pixels = 1_000_000).await;
    let cookie = signed_in(&app).await;
    let res = upload(&app, Some(&cookie), animated_gif(1200, 250, 3), "").await;
    assert_eq!(res.status(), 200);
    let image: serde_json::Value = res.json().await.unwrap();
    for (version, side) in [("original", (1200, 250)), ("large", (1080, 225)), ("thumbnail", (200, 42))] {
        let url = image[version]["url"].as_str().unwrap();
        assert!(url.ends_with(".gif"), "{url}");
        assert_eq!((image[version]["width"].as_u64().unwrap(), image[version]["height"].as_u64().unwrap()), side);
        let served = reqwest::get(url).await.unwrap();
        assert_eq!(served.headers()["content-type"], "image/gif");
        assert_eq!(frame_count(&served.bytes().await.unwrap()), 3, "the {version} version keeps every frame");
    }

    // 3 frames of 1200×250 fit in a million pixels; 4 do not, though the file is tiny.
    let bomb = animated_gif(1200, 250, 4);
    assert!(bomb.len() < 20_000);
    let refused = upload(&app, Some(&cookie), bomb, "").await;
    assert_eq!(refused.status(), 422);
    assert_eq!(
        refused.json::<serde_json::Value>().await.unwrap()["error"],
        "The animation has more than 3 frames of 1200×250 pixels; the limit is 1 megapixels over all frames."
    );
}

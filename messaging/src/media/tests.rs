//! Image checks: content, not names; limits before decoding; metadata gone after re-encoding.

use super::*;

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 90])));
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Png).unwrap();
    bytes
}

fn jpeg(width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(image::RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 30])));
    let mut bytes = Vec::new();
    image.write_to(&mut Cursor::new(&mut bytes), image::ImageFormat::Jpeg).unwrap();
    bytes
}

/// A PNG whose header claims `width`×`height` (with a valid CRC) over a tiny real image: a
/// decompression bomb's first bytes.
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut bytes = png(2, 2);
    // signature (8) + length (4) + "IHDR" (4), then width and height.
    bytes[16..20].copy_from_slice(&width.to_be_bytes());
    bytes[20..24].copy_from_slice(&height.to_be_bytes());
    let mut crc = flate2::Crc::new();
    crc.update(&bytes[12..29]);
    bytes[29..33].copy_from_slice(&crc.sum().to_be_bytes());
    bytes
}

const LIMITS: MediaLimits = MediaLimits::DEFAULT;

#[test]
fn a_png_becomes_original_large_and_thumbnail() {
    let v = versions(&png(2400, 1200), LIMITS, Purpose::PostImage).unwrap();
    let sides: Vec<(u32, u32)> = v.iter().map(|e| (e.width, e.height)).collect();
    assert_eq!(sides, [(2400, 1200), (1080, 540), (200, 100)]);
    assert!(v.iter().all(|e| e.format == ImageFormat::Png && image::guess_format(&e.bytes).unwrap() == image::ImageFormat::Png));
    assert_eq!(v[0].hash, hex::encode(Sha256::digest(&v[0].bytes)));
}

#[test]
fn a_small_image_keeps_its_size_in_every_version() {
    let v = versions(&jpeg(150, 100), LIMITS, Purpose::PostImage).unwrap();
    assert!(v.iter().all(|e| (e.width, e.height) == (150, 100)));
    assert_eq!(v[0].hash, v[2].hash, "one stored file serves all three");
}

#[test]
fn a_text_file_named_png_is_refused_by_its_content() {
    let e = decode(b"hello, I am text pretending to be a picture", LIMITS).unwrap_err();
    assert_eq!(e.to_string(), "Image: This file is not a JPEG, PNG, GIF or WebP image.");
    // Formats the image crate knows but Herald does not take: BMP, SVG-as-text.
    assert!(decode(b"BM\x3e\0\0\0\0\0\0\0\x3e\0\0\0", LIMITS).is_err());
    assert!(decode(b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", LIMITS).is_err());
}

#[test]
fn a_decompression_bomb_is_refused_by_its_header_before_decoding() {
    let bomb = png_claiming(100_000, 100_000);
    assert!(bomb.len() < 200, "the bomb is tiny: {} bytes", bomb.len());
    let e = decode(&bomb, LIMITS).unwrap_err();
    assert_eq!(e.to_string(), "Image: The image is 100000×100000 pixels; the limit is 40 megapixels.");
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_anything_else() {
    let limits = MediaLimits { max_bytes: 1000, ..LIMITS };
    let e = decode(&png(300, 300), limits).unwrap_err();
    assert!(e.to_string().contains("the limit is 0 MB") || e.to_string().contains("; the limit is"), "{e}");
    let e = decode(&vec![0u8; 11 * 1024 * 1024], LIMITS).unwrap_err();
    assert_eq!(e.to_string(), "Image: The file is 11 MB; the limit is 10 MB.");
}

#[test]
fn a_truncated_jpeg_is_refused_with_a_sentence() {
    let whole = jpeg(400, 300);
    let e = decode(&whole[..whole.len() / 2], LIMITS).unwrap_err();
    assert_eq!(e.to_string(), "Image: The image could not be read; the file may be damaged or cut short.");
}

#[test]
fn exif_metadata_is_gone_after_re_encoding() {
    // A JPEG with an APP1 "Exif" segment (GPS position, camera) right after the SOI marker.
    let plain = jpeg(64, 64);
    let payload = b"Exif\0\0MM\0*\0\0\0\x08GPS 51.5N 0.12W secret-camera-serial";
    let mut with_exif = plain[..2].to_vec();
    with_exif.extend_from_slice(&[0xFF, 0xE1]);
    with_exif.extend_from_slice(&((payload.len() + 2) as u16).to_be_bytes());
    with_exif.extend_from_slice(payload);
    with_exif.extend_from_slice(&plain[2..]);
    assert!(decode(&with_exif, LIMITS).is_ok(), "the JPEG with EXIF is readable");
    for e in versions(&with_exif, LIMITS, Purpose::PostImage).unwrap() {
        let text = String::from_utf8_lossy(&e.bytes);
        assert!(!text.contains("Exif") && !text.contains("secret-camera-serial"), "metadata survived");
    }
}

#[test]
fn an_avatar_is_a_centred_512_square() {
    let v = versions(&png(900, 300), LIMITS, Purpose::Avatar).unwrap();
    assert_eq!(v.len(), 1);
    assert_eq!((v[0].width, v[0].height), (AVATAR_SIDE, AVATAR_SIDE));
}

#[test]
fn media_names_parse_only_as_hash_and_known_extension() {
    let hash = "0f".repeat(32);
    assert_eq!(parse_media_name(&format!("{hash}.png")), Some((hash.as_str(), ImageFormat::Png)));
    for bad in [format!("{hash}.svg"), hash.clone(), "../x.png".into(), format!("{}.png", "0F".repeat(32))] {
        assert_eq!(parse_media_name(&bad), None, "{bad}");
    }
}

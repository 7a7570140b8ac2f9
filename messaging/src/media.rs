//! Uploaded images (post images and avatars). Each file is checked by its content, never its
//! name: a JPEG, PNG, GIF or WebP, at most [`MediaLimits::max_bytes`], and at most
//! [`MediaLimits::max_pixels`] by the header's dimensions *before* any pixel is decoded (a small
//! file can claim a huge image). The pixels are then re-encoded, which drops EXIF and every other
//! piece of metadata, and stored in the database by content hash so every server node serves them.

use crate::error::{Error, InvalidField, Result};
use crate::post::{ImageFormat, ImageVersion, PostImage};
use crate::store::now;
use crate::Messaging;
use image::{imageops::FilterType, DynamicImage, ImageReader, Limits};
use sha2::{Digest, Sha256};
use std::io::Cursor;

/// Longest side of the "large" version.
pub const LARGE_SIDE: u32 = 1080;
/// Longest side of the thumbnail.
pub const THUMBNAIL_SIDE: u32 = 200;
/// An avatar's side: cropped to a centred square, then resized.
pub const AVATAR_SIDE: u32 = 512;

/// How large an upload may be (app settings).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MediaLimits {
    pub max_bytes: usize,
    pub max_pixels: u64,
}

impl MediaLimits {
    pub const DEFAULT: MediaLimits = MediaLimits { max_bytes: 10 * 1024 * 1024, max_pixels: 40_000_000 };
}

impl Default for MediaLimits {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What an upload is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    PostImage,
    Avatar,
}

/// One encoded version, ready to store.
struct Encoded {
    hash: String,
    format: ImageFormat,
    bytes: Vec<u8>,
    width: u32,
    height: u32,
}

fn field(rule: impl Into<String>) -> Error {
    InvalidField::new("Image", rule).into()
}

fn megabytes(n: usize) -> String {
    let mb = n as f64 / (1024.0 * 1024.0);
    if mb >= 10.0 || mb.fract() < 0.05 {
        format!("{mb:.0} MB")
    } else {
        format!("{mb:.1} MB")
    }
}

/// An upload that passed [`check`]: its format, dimensions and the reader's format.
struct Checked {
    format: ImageFormat,
    reader_format: image::ImageFormat,
    width: u32,
    height: u32,
}

fn damaged(_: image::ImageError) -> Error {
    field("The image could not be read; the file may be damaged or cut short.")
}

/// Checks `bytes` against `limits` by their header: nothing is decoded yet.
fn check(bytes: &[u8], limits: MediaLimits) -> Result<Checked> {
    if bytes.len() > limits.max_bytes {
        return Err(field(format!("The file is {}; the limit is {}.", megabytes(bytes.len()), megabytes(limits.max_bytes))));
    }
    let not_an_image = || field("This file is not a JPEG, PNG, GIF or WebP image.");
    let format = match image::guess_format(bytes).map_err(|_| not_an_image())? {
        image::ImageFormat::Jpeg => ImageFormat::Jpeg,
        image::ImageFormat::Png => ImageFormat::Png,
        image::ImageFormat::Gif => ImageFormat::Gif,
        image::ImageFormat::WebP => ImageFormat::WebP,
        _ => return Err(not_an_image()),
    };
    let reader_format = match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
        ImageFormat::Gif => image::ImageFormat::Gif,
        ImageFormat::WebP => image::ImageFormat::WebP,
    };
    // JPEG decoders fill a cut-short scan with grey rather than fail: a whole JPEG ends its last
    // scan (SOS) with an end-of-image marker (entropy-coded data never holds FF D9).
    if format == ImageFormat::Jpeg && !jpeg_is_complete(bytes) {
        return Err(damaged(image::ImageError::IoError(std::io::ErrorKind::UnexpectedEof.into())));
    }
    // The header's dimensions first: nothing is decoded for an image over the pixel limit.
    let (width, height) = ImageReader::with_format(Cursor::new(bytes), reader_format).into_dimensions().map_err(damaged)?;
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(field(format!("The image is {width}×{height} pixels; the limit is {} megapixels.", limits.max_pixels / 1_000_000)));
    }
    Ok(Checked { format, reader_format, width, height })
}

/// Checks `bytes` and decodes them (a GIF's first frame) within `limits`.
pub fn decode(bytes: &[u8], limits: MediaLimits) -> Result<(DynamicImage, ImageFormat)> {
    let checked = check(bytes, limits)?;
    Ok((decode_checked(bytes, &checked)?, checked.format))
}

/// Decodes what [`check`] passed, bounded by its dimensions.
fn decode_checked(bytes: &[u8], &Checked { reader_format, width, height, .. }: &Checked) -> Result<DynamicImage> {
    let pixels = u64::from(width) * u64::from(height);
    let mut reader = ImageReader::with_format(Cursor::new(bytes), reader_format);
    let mut decode_limits = Limits::default();
    decode_limits.max_image_width = Some(width);
    decode_limits.max_image_height = Some(height);
    decode_limits.max_alloc = Some(pixels.saturating_mul(8).max(1 << 20));
    reader.limits(decode_limits);
    reader.decode().map_err(damaged)
}

fn jpeg_is_complete(bytes: &[u8]) -> bool {
    let last = |marker: u8| bytes.windows(2).rposition(|w| w == [0xFF, marker]);
    matches!((last(0xDA), last(0xD9)), (Some(sos), Some(eoi)) if eoi > sos)
}

fn encode(image: &DynamicImage, format: ImageFormat) -> Result<Encoded> {
    let mut bytes = Vec::new();
    let mut out = Cursor::new(&mut bytes);
    let written = match format {
        // JPEG has no alpha; the encoder wants RGB.
        ImageFormat::Jpeg => {
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 85).encode_image(&DynamicImage::ImageRgb8(image.to_rgb8()))
        }
        ImageFormat::Png => image.write_to(&mut out, image::ImageFormat::Png),
        ImageFormat::Gif => DynamicImage::ImageRgba8(image.to_rgba8()).write_to(&mut out, image::ImageFormat::Gif),
        ImageFormat::WebP => DynamicImage::ImageRgba8(image.to_rgba8()).write_to(&mut out, image::ImageFormat::WebP),
    };
    written.map_err(|e| Error::Internal(format!("encoding an image: {e}")))?;
    Ok(Encoded { hash: hex::encode(Sha256::digest(&bytes)), format, width: image.width(), height: image.height(), bytes })
}

/// A smaller copy whose longest side is at most `side` (the image itself when it fits).
fn fit(image: &DynamicImage, side: u32) -> DynamicImage {
    if image.width() <= side && image.height() <= side {
        image.clone()
    } else {
        image.resize(side, side, FilterType::Triangle)
    }
}

/// The size `image.resize(side, side, …)` gives a `width`×`height` picture (itself when it fits).
fn fitted(width: u32, height: u32, side: u32) -> (u32, u32) {
    if width <= side && height <= side {
        return (width, height);
    }
    let ratio = f64::min(f64::from(side) / f64::from(width), f64::from(side) / f64::from(height));
    let scaled = |n: u32| ((f64::from(n) * ratio).round() as u32).max(1);
    (scaled(width), scaled(height))
}

/// The three versions of a GIF with every frame kept, so an animation stays animated. Frames
/// are decoded one at a time (each composed on the whole canvas) and written to the three
/// encoders at once: memory holds one canvas whatever the number of frames, and re-encoding
/// drops comments and every other extension, as for stills. All frames' pixels together count
/// against [`MediaLimits::max_pixels`], so a small file of countless frames is refused too.
fn gif_versions(bytes: &[u8], limits: MediaLimits, width: u32, height: u32) -> Result<Vec<Encoded>> {
    use image::codecs::gif::{GifDecoder, GifEncoder, Repeat};
    use image::{metadata::LoopCount, AnimationDecoder, Frame};
    let encoding = |e: image::ImageError| Error::Internal(format!("encoding an image: {e}"));
    let decoder = GifDecoder::new(Cursor::new(bytes)).map_err(damaged)?;
    let repeat = match decoder.loop_count() {
        LoopCount::Infinite => Repeat::Infinite,
        LoopCount::Finite(n) => Repeat::Finite(u16::try_from(n.get()).unwrap_or(u16::MAX)),
    };
    let sizes = [(width, height), fitted(width, height, LARGE_SIDE), fitted(width, height, THUMBNAIL_SIDE)];
    let mut outputs: [Vec<u8>; 3] = Default::default();
    {
        // Speed 10 of 30: NeuQuant at speed 1 takes seconds for one large frame.
        let mut encoders: Vec<GifEncoder<&mut Vec<u8>>> = outputs.iter_mut().map(|out| GifEncoder::new_with_speed(out, 10)).collect();
        for encoder in &mut encoders {
            encoder.set_repeat(repeat).map_err(encoding)?;
        }
        let per_frame = u64::from(width) * u64::from(height);
        let mut decoded: u64 = 0;
        for (n, frame) in decoder.into_frames().enumerate() {
            let frame = frame.map_err(damaged)?;
            decoded += per_frame;
            if decoded > limits.max_pixels {
                return Err(field(format!(
                    "The animation has more than {n} frames of {width}×{height} pixels; the limit is {} megapixels over all frames.",
                    limits.max_pixels / 1_000_000
                )));
            }
            for (encoder, &(w, h)) in encoders.iter_mut().zip(&sizes) {
                let pixels = if (w, h) == (width, height) {
                    frame.buffer().clone()
                } else {
                    image::imageops::resize(frame.buffer(), w, h, FilterType::Triangle)
                };
                encoder.encode_frame(Frame::from_parts(pixels, 0, 0, frame.delay())).map_err(encoding)?;
            }
        }
    }
    Ok(outputs
        .into_iter()
        .zip(sizes)
        .map(|(bytes, (width, height))| Encoded {
            hash: hex::encode(Sha256::digest(&bytes)),
            format: ImageFormat::Gif,
            width,
            height,
            bytes,
        })
        .collect())
}

/// The stored versions of an upload: original, large, thumbnail (post images) or one
/// 512×512 square (avatars).
fn versions(bytes: &[u8], limits: MediaLimits, purpose: Purpose) -> Result<Vec<Encoded>> {
    let checked = check(bytes, limits)?;
    let format = checked.format;
    if purpose == Purpose::PostImage && format == ImageFormat::Gif {
        // Every frame, decoded one at a time.
        return gif_versions(bytes, limits, checked.width, checked.height);
    }
    let image = decode_checked(bytes, &checked)?;
    match purpose {
        Purpose::PostImage => {
            Ok(vec![encode(&image, format)?, encode(&fit(&image, LARGE_SIDE), format)?, encode(&fit(&image, THUMBNAIL_SIDE), format)?])
        }
        Purpose::Avatar => {
            let side = image.width().min(image.height());
            let square = image.crop_imm((image.width() - side) / 2, (image.height() - side) / 2, side, side);
            let avatar = square.resize_exact(AVATAR_SIDE, AVATAR_SIDE, FilterType::Triangle);
            // An avatar is a still picture: GIFs become PNG.
            let format = if format == ImageFormat::Gif { ImageFormat::Png } else { format };
            Ok(vec![encode(&avatar, format)?])
        }
    }
}

/// The URL of a stored version: `{origin}/media/{hash}.{ext}`.
pub fn media_url(origin: &str, hash: &str, format: ImageFormat) -> String {
    format!("{}/media/{hash}.{}", origin.trim_end_matches('/'), format.extension())
}

/// Parses the last part of a media path, `{64 hex}.{ext}`.
pub fn parse_media_name(name: &str) -> Option<(&str, ImageFormat)> {
    let (hash, ext) = name.split_once('.')?;
    let format = ImageFormat::from_extension(ext)?;
    (hash.len() == 64 && hash.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))).then_some((hash, format))
}

impl Messaging {
    pub fn media_limits(&self) -> MediaLimits {
        self.media_limits
    }

    /// Checks, re-encodes and stores an upload that `allowed` permits
    /// ([`Messaging::authorize_upload`]); `origin` is where Herald is served (its URLs). The
    /// image work runs on the blocking pool, one upload at a time per core.
    pub async fn store_image(&self, bytes: Vec<u8>, purpose: Purpose, origin: &str, allowed: &crate::Allowed) -> Result<PostImage> {
        let by = allowed.user().username.as_str();
        let limits = self.media_limits;
        let _permit = self.image_permits.acquire().await.map_err(|e| Error::Internal(e.to_string()))?;
        let encoded = tokio::task::spawn_blocking(move || versions(&bytes, limits, purpose))
            .await
            .map_err(|e| Error::Internal(format!("image task: {e}")))??;
        let at = now();
        let mut tx = self.begin_write().await?;
        for e in &encoded {
            sqlx::query(
                "insert into media (hash, content_type, bytes, width, height, created_by, created_at) values ($1, $2, $3, $4, $5, $6, $7) \
                 on conflict (hash) do nothing",
            )
            .bind(&e.hash)
            .bind(e.format.content_type())
            .bind(&e.bytes)
            .bind(i64::from(e.width))
            .bind(i64::from(e.height))
            .bind(by)
            .bind(at)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        let version = |e: &Encoded| ImageVersion {
            size: e.bytes.len() as u64,
            width: e.width,
            height: e.height,
            url: media_url(origin, &e.hash, e.format),
        };
        let original = &encoded[0];
        let large = encoded.get(1).unwrap_or(original);
        let thumbnail = encoded.get(2).unwrap_or(large);
        Ok(PostImage {
            id: original.hash.clone(),
            format: original.format,
            original: version(original),
            large: version(large),
            thumbnail: version(thumbnail),
        })
    }

    /// A stored image's content type and bytes, if `hash` is one with that format.
    pub async fn media(&self, hash: &str, format: ImageFormat) -> Result<Option<Vec<u8>>> {
        let row: Option<(String, Vec<u8>)> =
            sqlx::query_as("select content_type, bytes from media where hash = $1").bind(hash).fetch_optional(&self.store.pool).await?;
        Ok(row.filter(|(content_type, _)| content_type == format.content_type()).map(|(_, bytes)| bytes))
    }
}

#[cfg(test)]
mod tests;

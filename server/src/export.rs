//! `GET /accounts/{id}/export.zip`: everything an account holds, as one ZIP (docs/operations.md),
//! for its owner and the platform owner (it lists every subscriber).
//!
//! * `posts.jsonl`: every sent post, oldest first, one JSON object a line (MsgBody, state,
//!   versions, and the files under `media/` it shows);
//! * `media/{hash}.{ext}`: those images;
//! * `subscribers.csv`: user, subscribed (UTC), notification setting, custom string;
//! * `insights/{days,hours,notifications,sources,posts}.csv`: the Insights tab's tables over
//!   90 days, as its own downloads write them.
//!
//! The ZIP is written on a blocking thread while it streams: posts and subscribers are read a
//! page at a time and the archive goes out through a bounded channel, so memory stays flat
//! whatever the account's size (a million subscribers included), and a client that goes away
//! stops the work.

use crate::state::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Extension, Path, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use messaging::{Messaging, OfficialAccountId};
use std::collections::BTreeMap;
use std::io::Write;
use zip::write::SimpleFileOptions;

/// Bytes gathered before a piece of the archive is sent.
const PIECE: usize = 64 * 1024;
/// Pieces waiting for the client at most (the memory one export may hold).
const PIECES_WAITING: usize = 8;

fn refusal(status: StatusCode, sentence: &str) -> Response {
    (status, [(header::CONTENT_TYPE, "text/plain; charset=utf-8")], format!("{sentence}\n")).into_response()
}

pub async fn download(State(state): State<AppState>, signed_in: Option<Extension<app::SignedIn>>, Path(account): Path<String>) -> Response {
    let Some(Extension(app::SignedIn { user, .. })) = signed_in else {
        return refusal(StatusCode::UNAUTHORIZED, "You are signed out. Sign in again.");
    };
    let Ok(id) = OfficialAccountId::parse("account", &account) else {
        return refusal(StatusCode::BAD_REQUEST, "The address does not name an official account.");
    };
    match state.messaging.console().authorize(&user, messaging::Action::ManageAccount, Some(&id)).await {
        Ok(_) => {}
        Err(messaging::Error::Forbidden(_)) => return refusal(StatusCode::FORBIDDEN, "Only the account's owner can export it."),
        Err(messaging::Error::AccountNotFound(_)) => return refusal(StatusCode::NOT_FOUND, "This official account does not exist."),
        Err(e) => {
            tracing::error!(error = %e, "checking an export's permission failed");
            return refusal(StatusCode::INTERNAL_SERVER_ERROR, "The server could not check your permission; try again.");
        }
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<std::io::Result<Bytes>>(PIECES_WAITING);
    let (m, runtime) = (state.messaging.clone(), tokio::runtime::Handle::current());
    let name = id.as_str().trim_start_matches("@TOA#_").replace(|c: char| !c.is_ascii_alphanumeric() && c != '-' && c != '_', "_");
    tokio::task::spawn_blocking(move || {
        let mut out = Pieces { tx, piece: Vec::with_capacity(PIECE) };
        let result = write_zip(&m, &runtime, &id, &mut out);
        match result {
            Ok(()) => out.flush_piece(),
            Err(e) => {
                // The client sees a cut-off download (its unzip reports it), never a valid-looking ZIP.
                tracing::warn!(error = %e, account = %id, "an export stopped");
                let _ = out.tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                Ok(())
            }
        }
    });
    let stream = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|piece| (piece, rx)) });
    (
        [
            (header::CONTENT_TYPE, "application/zip".to_owned()),
            (header::CONTENT_DISPOSITION, format!("attachment; filename=\"herald-{name}.zip\"")),
            (header::CACHE_CONTROL, "no-store".to_owned()),
        ],
        Body::from_stream(stream),
    )
        .into_response()
}

/// The archive's bytes, in pieces, to the response (blocking: this runs on its own thread).
struct Pieces {
    tx: tokio::sync::mpsc::Sender<std::io::Result<Bytes>>,
    piece: Vec<u8>,
}

impl Pieces {
    fn flush_piece(&mut self) -> std::io::Result<()> {
        if self.piece.is_empty() {
            return Ok(());
        }
        let piece = std::mem::replace(&mut self.piece, Vec::with_capacity(PIECE));
        self.tx
            .blocking_send(Ok(Bytes::from(piece)))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

impl Write for Pieces {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.piece.extend_from_slice(buf);
        if self.piece.len() >= PIECE {
            self.flush_piece()?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn write_zip(m: &Messaging, runtime: &tokio::runtime::Handle, id: &OfficialAccountId, out: &mut Pieces) -> Result<(), Failure> {
    let mut zip = zip::ZipWriter::new_stream(out);
    let text = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated).large_file(true);
    let ops = m.operations();

    zip.start_file("posts.jsonl", text)?;
    let mut media = BTreeMap::new();
    let mut after = 0;
    loop {
        let page = runtime.block_on(ops.posts_page(id, after, messaging::operations::export::POSTS_PAGE))?;
        for post in &page {
            let line = messaging::operations::export::post_line(post, &mut media);
            serde_json::to_writer(&mut zip, &line)?;
            zip.write_all(b"\n")?;
        }
        match page.last() {
            Some(last) => after = last.seq,
            None => break,
        }
    }

    // Images are compressed already: stored as they are.
    let stored = SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (hash, format) in media {
        if let Some(bytes) = runtime.block_on(m.media(&hash, format))? {
            zip.start_file(format!("media/{hash}.{}", format.extension()), stored)?;
            zip.write_all(&bytes)?;
        }
    }

    zip.start_file("subscribers.csv", text)?;
    {
        let mut csv = csv::Writer::from_writer(&mut zip);
        csv.write_record(["user", "subscribed_utc", "notifications", "custom_string"])?;
        let mut next = String::new();
        loop {
            let page = runtime.block_on(m.subscribers_page(id, messaging::subscribers::SUBSCRIBER_PAGE_MAX, &next))?;
            for s in &page.subscribers {
                let when = app::insights_tables::utc_minutes(s.subscribed_at);
                csv.write_record([
                    crate::insights_csv::cell(&s.subscriber_account),
                    when,
                    s.msg_flag.clone(),
                    crate::insights_csv::cell(&s.custom_string),
                ])?;
            }
            if page.next.is_empty() {
                break;
            }
            next = page.next;
        }
        csv.flush()?;
    }

    for table in ["days", "hours", "notifications", "sources", "posts"] {
        let query = crate::insights_csv::CsvQuery { days: 90, offset: 0 };
        if let Some(body) = runtime.block_on(crate::insights_csv::table_csv(m, id, table, query))? {
            zip.start_file(format!("insights/{table}.csv"), text)?;
            zip.write_all(&body)?;
        }
    }
    zip.finish()?;
    Ok(())
}

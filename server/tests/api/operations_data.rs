//! Backup, restore and export (docs/operations.md): a SQLite backup taken while posts are being
//! written and restored into a fresh folder, PostgreSQL's pg_dump / pg_restore round trip as the
//! README gives it, and an account's ZIP read back by Python's `zipfile`.

use crate::helpers::*;
use crate::media::{png, upload};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn postgres_pass() -> bool {
    std::env::var("HERALD_TEST_BACKEND").as_deref() == Ok("postgres")
}

/// `server ARGS` with `DATABASE_URL=db`: (success, what it printed).
fn server_command(db: &str, args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_server")).env("DATABASE_URL", db).env("RUST_LOG", "warn").args(args).output().unwrap();
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// An account with an image post and `n` text posts; returns (account, image URL, image bytes).
async fn an_account_with_posts(app: &TestApp, n: usize) -> (String, String, Vec<u8>) {
    let account = app.an_account_with_subscribers("@TOA#_kept", &["k1", "k2", "k3"]).await;
    let cookie = signed_in(app).await;
    let res = upload(app, Some(&cookie), png(300, 200), "").await;
    assert_eq!(res.status(), 200);
    let image: Value = res.json().await.unwrap();
    let url = image["large"]["url"].as_str().unwrap().to_owned();
    let bytes = reqwest::get(&url).await.unwrap().bytes().await.unwrap().to_vec();
    let body = json!([{ "MsgType": "TIMImageElem", "MsgContent": { "UUID": image["id"], "ImageFormat": 1, "ImageInfoArray": [
        { "Type": 1, "Size": bytes.len(), "Width": 300, "Height": 200, "URL": url }] } }]);
    assert_ok(&app.send(json!({ "Official_Account": account, "Random": 1, "MsgBody": body })).await);
    for i in 0..n {
        assert_ok(&app.send(json!({ "Official_Account": account, "Random": 100 + i, "MsgBody": text(&format!("post {i}")) })).await);
    }
    (account, url, bytes)
}

async fn history_keys(app: &TestApp, account: &str) -> Vec<String> {
    let h = app.history(json!({ "Official_Account": account, "ReqMsgNumber": 100 })).await;
    assert_ok(&h);
    h["RspMsgList"].as_array().unwrap().iter().map(|m| m["MsgKey"].as_str().unwrap().to_owned()).collect()
}

/// The same server, on another database (restored), in this process.
async fn app_on(db: &str) -> TestApp {
    let mut config = server::config::Config::for_tests(db);
    config.sdkappid = Some(SDKAPPID);
    config.secret_key = Some(KEY.into());
    config.admin_password = Some(PASSWORD.into());
    let app = server::startup::Application::build(config).await.expect("the server starts on the restored database");
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    TestApp { base, client: reqwest::Client::new(), _dir: None, db: Some(db.to_owned()), node: None }
}

fn media_path(url: &str) -> &str {
    &url[url.find("/media/").unwrap()..]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_backup_taken_during_writes_restores_every_post_and_image_into_a_fresh_folder() {
    if postgres_pass() {
        return; // PostgreSQL: pg_dump below
    }
    let app = crate::client::unlimited().await;
    let db = app.db.clone().unwrap();
    let (account, url, bytes) = an_account_with_posts(&app, 5).await;
    let before = history_keys(&app, &account).await;

    // A writer keeps sending while the backup runs.
    let writing = Arc::new(AtomicBool::new(true));
    let written = Arc::new(Mutex::new(Vec::new()));
    let writer = {
        let (base, account, writing, written) = (app.base.clone(), account.clone(), writing.clone(), written.clone());
        tokio::spawn(async move {
            let app = TestApp { base, client: reqwest::Client::new(), _dir: None, db: None, node: None };
            let mut i = 0;
            while writing.load(Ordering::Relaxed) && i < 60 {
                let r =
                    app.send(json!({ "Official_Account": account, "Random": 10_000 + i, "MsgBody": text(&format!("during {i}")) })).await;
                assert_ok(&r);
                written.lock().unwrap().push(r["MsgKey"].as_str().unwrap().to_owned());
                i += 1;
            }
        })
    };
    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
    let folder = tempfile::tempdir().unwrap();
    let backup = folder.path().join("herald-backup.db");
    let backup_text = backup.to_str().unwrap().to_owned();
    let (ok, said) = tokio::task::spawn_blocking({
        let (db, backup_text) = (db.clone(), backup_text.clone());
        move || server_command(&db, &["backup", &backup_text])
    })
    .await
    .unwrap();
    assert!(ok, "{said}");
    assert!(said.starts_with("Backed up "), "{said}");
    writing.store(false, Ordering::Relaxed);
    writer.await.unwrap();
    assert!(!written.lock().unwrap().is_empty());

    // A backup never overwrites.
    let (ok, said) = server_command(&db, &["backup", &backup_text]);
    assert!(!ok && said.contains("exists already"), "{said}");

    // Restored into a fresh folder, a server serves every post the backup had, and the image.
    let fresh = tempfile::tempdir().unwrap();
    let restored_db = format!("sqlite://{}/data/herald.db", fresh.path().display());
    let (ok, said) = server_command(&restored_db, &["restore", &backup_text]);
    assert!(ok, "{said}");
    let restored = app_on(&restored_db).await;
    let keys = history_keys(&restored, &account).await;
    for key in &before {
        assert!(keys.contains(key), "{key} written before the backup is restored");
    }
    let during = written.lock().unwrap().clone();
    let kept: Vec<&String> = during.iter().filter(|k| keys.contains(k)).collect();
    assert_eq!(kept.len(), keys.len() - before.len(), "restored posts are exactly ones that were written");
    assert_eq!(during[..kept.len()].iter().collect::<Vec<_>>(), kept, "a consistent copy: a prefix of the posts written meanwhile");
    let image = reqwest::get(format!("{}{}", restored.base, media_path(&url))).await.unwrap();
    assert_eq!(image.status(), 200);
    assert_eq!(image.bytes().await.unwrap().to_vec(), bytes);

    // Restoring over a database a server is using is refused, and changes nothing.
    let (ok, said) = server_command(&restored_db, &["restore", &backup_text]);
    assert!(!ok && said.contains("a server is using"), "{said}");
    assert_eq!(history_keys(&restored, &account).await, keys);
    // So is a file that is not a Herald backup.
    let junk = folder.path().join("junk.db");
    std::fs::write(&junk, b"not a database at all").unwrap();
    let (ok, said) = server_command(&format!("sqlite://{}/other.db", fresh.path().display()), &["restore", junk.to_str().unwrap()]);
    assert!(!ok && said.contains("not a SQLite database"), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_postgres_database_round_trips_through_pg_dump_and_pg_restore() {
    if !postgres_pass() {
        return; // SQLite: `server backup` above
    }
    let app = crate::client::unlimited().await;
    let db = app.db.clone().unwrap();
    let (account, url, bytes) = an_account_with_posts(&app, 3).await;
    let keys = history_keys(&app, &account).await;
    let folder = tempfile::tempdir().unwrap();
    let dump = folder.path().join("herald.dump");
    // The README's commands.
    let out = Command::new("pg_dump").args(["--format=custom", "--file", dump.to_str().unwrap(), &db]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let fresh = tempfile::tempdir().unwrap();
    let restored_db = database_url(&fresh).await;
    let out = Command::new("pg_restore").args(["--no-owner", "--dbname", &restored_db, dump.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let restored = app_on(&restored_db).await;
    assert_eq!(history_keys(&restored, &account).await, keys);
    let image = reqwest::get(format!("{}{}", restored.base, media_path(&url))).await.unwrap();
    assert_eq!(image.bytes().await.unwrap().to_vec(), bytes);
    // `server backup` on PostgreSQL says what to use instead.
    let (ok, said) = server_command(&db, &["backup", folder.path().join("x").to_str().unwrap()]);
    assert!(!ok && said.contains("pg_dump"), "{said}");
}

/// What Python's `zipfile` reads in `zip`: its names, and each text member's content.
fn read_zip(zip: &Path) -> Value {
    let script = r#"
import json, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
bad = z.testzip()
out = {"bad": bad, "names": z.namelist(), "text": {}, "sizes": {}}
for n in z.namelist():
    data = z.read(n)
    out["sizes"][n] = len(data)
    if not n.startswith("media/"):
        out["text"][n] = data.decode("utf-8")
print(json.dumps(out))
"#;
    let out = Command::new("python3").args(["-c", script, zip.to_str().unwrap()]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

#[tokio::test]
async fn an_accounts_export_is_one_zip_of_its_posts_media_subscribers_and_insights() {
    let app = crate::client::unlimited().await;
    let (account, url, bytes) = an_account_with_posts(&app, 2).await;
    let address = format!("{}/accounts/{}/export.zip", app.base, account.replace('#', "%23"));
    let signed_out = client().get(&address).send().await.unwrap();
    assert_eq!(signed_out.status(), 303, "signed out: to the sign-in page");

    let cookie = signed_in(&app).await;
    let res = client().get(&address).header("cookie", &cookie).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/zip");
    assert!(res.headers()["content-disposition"].to_str().unwrap().contains("herald-kept.zip"));
    let folder = tempfile::tempdir().unwrap();
    let path = folder.path().join("export.zip");
    std::fs::write(&path, res.bytes().await.unwrap()).unwrap();
    let zip = read_zip(&path);
    assert!(zip["bad"].is_null(), "{zip}");

    let posts: Vec<Value> = zip["text"]["posts.jsonl"].as_str().unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(posts.len(), 3);
    assert_eq!(posts[1]["MsgBody"][0]["MsgContent"]["Text"], "post 0");
    let media = posts[0]["Media"][0].as_str().unwrap();
    assert_eq!(format!("/{media}"), media_path(&url));
    assert_eq!(zip["sizes"][media], bytes.len(), "the image, byte for byte");

    let subscribers = zip["text"]["subscribers.csv"].as_str().unwrap();
    let rows: Vec<&str> = subscribers.lines().collect();
    assert_eq!(rows[0], "user,subscribed_utc,notifications,custom_string");
    assert_eq!(rows.len(), 4, "{subscribers}");
    assert!(rows[1].starts_with("k1,") && rows[1].ends_with(",AcceptAndNotify,"), "{subscribers}");
    for table in ["days", "hours", "notifications", "sources", "posts"] {
        assert!(zip["text"][format!("insights/{table}.csv")].is_string(), "{table}: {zip}");
    }
    assert!(zip["text"]["insights/posts.csv"].as_str().unwrap().lines().count() >= 4);
}

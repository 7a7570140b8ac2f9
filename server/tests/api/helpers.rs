//! `spawn_app()` and a `TestApp` with one method per REST command, signing as the admin;
//! `Restartable` for tests that stop a server and start it again on the same database.

use serde_json::{json, Value};
use server::config::Config;
use server::startup::Application;
use std::time::{SystemTime, UNIX_EPOCH};

pub const SDKAPPID: u64 = 1_400_000_777;
pub const KEY: &str = "test-secret-key";
pub const ADMIN: &str = "administrator";

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub _dir: Option<tempfile::TempDir>,
    /// The database's URL, for tests that look behind the server's back (`spawn_app` only).
    pub db: Option<String>,
    /// The server's `messaging` handle, to move its delivery clock (in-process servers).
    pub node: Option<messaging::Messaging>,
}

/// A broadcast's `Random`.
pub fn rand_u32() -> u32 {
    rand::random()
}

pub fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

/// A UserSig valid for 30 days: tests that move a server's clock days forward still call.
pub fn sig_for(identifier: &str) -> String {
    messaging::usersig::sign(SDKAPPID, KEY, identifier, 30 * 86_400, now())
}

pub async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Like [`spawn_app`], with settings changed first (limits, say).
pub async fn spawn_app_with(change: impl FnOnce(&mut Config)) -> TestApp {
    if std::env::var("TEST_LOG").is_ok() {
        server::telemetry::init(server::config::LogFormat::Text);
    }
    let dir = tempfile::tempdir().unwrap();
    let db = database_url(&dir).await;
    let mut config = Config::for_tests(&db);
    config.sdkappid = Some(SDKAPPID);
    config.secret_key = Some(KEY.into());
    config.admin_password = Some(PASSWORD.into());
    change(&mut config);
    let app = Application::build(config).await.expect("the server starts");
    let base = format!("http://{}", app.addr());
    let node = Some(app.messaging());
    tokio::spawn(app.run_until_stopped());
    TestApp { base, client: reqwest::Client::new(), _dir: Some(dir), db: Some(db), node }
}

/// An address with nothing listening on it (yet): a receiver that is down.
pub fn unused_addr() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A server on one database that a test stops and starts again (restart tests).
pub struct Restartable {
    url: String,
    change: Box<dyn Fn(&mut Config)>,
    _dir: tempfile::TempDir,
}

/// One life of a [`Restartable`] server; derefs to a [`TestApp`] for calls.
pub struct Running {
    app: TestApp,
    stop: tokio::sync::oneshot::Sender<()>,
    serving: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Restartable {
    pub async fn new(change: impl Fn(&mut Config) + 'static) -> Self {
        let dir = tempfile::tempdir().unwrap();
        Self { url: database_url(&dir).await, change: Box::new(change), _dir: dir }
    }

    pub async fn start(&self) -> Running {
        let mut config = Config::for_tests(&self.url);
        config.sdkappid = Some(SDKAPPID);
        config.secret_key = Some(KEY.into());
        config.admin_password = Some(PASSWORD.into());
        (self.change)(&mut config);
        let app = Application::build(config).await.expect("the server starts");
        let base = format!("http://{}", app.addr());
        let node = Some(app.messaging());
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let serving = tokio::spawn(app.run_until(async {
            let _ = stopped.await;
        }));
        Running { app: TestApp { base, client: reqwest::Client::new(), _dir: None, db: None, node }, stop, serving }
    }
}

impl Running {
    /// Stops the server the way SIGTERM does: in-flight requests finish, then it exits.
    pub async fn stop(self) {
        self.stop.send(()).unwrap();
        self.serving.await.unwrap().unwrap();
    }
}

impl std::ops::Deref for Running {
    type Target = TestApp;
    fn deref(&self) -> &TestApp {
        &self.app
    }
}

/// A fresh database: a SQLite file, or with HERALD_TEST_BACKEND=postgres a new database on the
/// server at HERALD_TEST_PG_URL (scripts/test.sh runs this suite both ways).
pub async fn database_url(dir: &tempfile::TempDir) -> String {
    if std::env::var("HERALD_TEST_BACKEND").as_deref() != Ok("postgres") {
        return format!("sqlite://{}/herald.db", dir.path().display());
    }
    use sqlx::Connection;
    let url = std::env::var("HERALD_TEST_PG_URL").expect("HERALD_TEST_BACKEND=postgres needs HERALD_TEST_PG_URL");
    let mut admin = sqlx::PgConnection::connect(&url).await.expect("PostgreSQL at HERALD_TEST_PG_URL");
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    let name = format!("herald_api_{nanos:x}_{:x}", std::process::id());
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
    format!("{base}/{name}")
}

impl TestApp {
    /// POSTs `body` (raw bytes) to `/v4/{path}?{query}`; asserts HTTP 200 and returns the JSON.
    pub async fn post_raw(&self, path: &str, query: &str, body: impl Into<reqwest::Body>) -> Value {
        let res = self.client.post(format!("{}/v4/{path}?{query}", self.base)).body(body).send().await.unwrap();
        assert_eq!(res.status(), 200, "Tencent answers HTTP 200 for every outcome");
        res.json().await.unwrap()
    }

    pub fn admin_query(&self) -> String {
        format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={}&random=12345&contenttype=json", sig_for(ADMIN))
    }

    /// Calls a command as the admin with a JSON body.
    pub async fn call(&self, path: &str, body: Value) -> Value {
        self.post_raw(path, &self.admin_query(), body.to_string()).await
    }

    pub async fn account_import(&self, user: &str) -> Value {
        self.call("im_open_login_svc/account_import", json!({ "UserID": user })).await
    }

    pub async fn create_official_account(&self, body: Value) -> Value {
        self.call("official_account_open_http_svc/create_official_account", body).await
    }

    pub async fn get_official_account_info(&self, ids: &[&str]) -> Value {
        let list: Vec<Value> = ids.iter().map(|id| json!({ "Official_Account": id })).collect();
        self.call("official_account_open_http_svc/get_official_account_info", json!({ "OfficialAccountIdList": list })).await
    }

    /// Imports `owner` and creates an account with a custom ID; returns the ID.
    pub async fn an_account(&self, owner: &str, id: &str, name: &str) -> String {
        self.account_import(owner).await;
        let r = self.create_official_account(json!({ "Owner_Account": owner, "OfficialAccountUserID": id, "Name": name })).await;
        assert_eq!(r["ErrorCode"], 0, "{r}");
        r["OfficialAccountUserID"].as_str().unwrap().to_owned()
    }
}

impl TestApp {
    /// An account `id` owned by `owner` with `subscribers` subscribed.
    pub async fn an_account_with_subscribers(&self, id: &str, subscribers: &[&str]) -> String {
        let id = self.an_account("owner", id, "Account").await;
        self.call("im_open_login_svc/multiaccount_import", json!({ "Accounts": subscribers })).await;
        let list: Vec<Value> = subscribers.iter().map(|s| json!({ "Subscriber_Account": s })).collect();
        let r = self.call("official_account_open_http_svc/add_subscriber", json!({ "Official_Account": id, "SubscriberList": list })).await;
        assert_ok(&r);
        id
    }

    pub async fn send(&self, body: Value) -> Value {
        self.call("official_account_open_http_svc/send_official_account_msg", body).await
    }

    pub async fn history(&self, body: Value) -> Value {
        self.call("official_account_open_http_svc/official_account_msg_get_simple", body).await
    }
}

pub fn text(s: &str) -> Value {
    json!([{ "MsgType": "TIMTextElem", "MsgContent": { "Text": s } }])
}

/// Asserts a failed envelope with `code`, and that ErrorInfo says something.
pub fn assert_fails(r: &Value, code: u64) {
    assert_eq!(r["ActionStatus"], "FAIL", "{r}");
    assert_eq!(r["ErrorCode"], code, "{r}");
    assert!(!r["ErrorInfo"].as_str().unwrap_or_default().is_empty(), "{r}");
    assert!(r["RequestId"].is_string(), "{r}");
}

pub fn assert_ok(r: &Value) {
    assert_eq!(r["ActionStatus"], "OK", "{r}");
    assert_eq!(r["ErrorCode"], 0, "{r}");
    assert_eq!(r["ErrorInfo"], "", "{r}");
    assert!(r["RequestId"].is_string(), "{r}");
}

// The console's server functions over HTTP, as its pages call them.

/// The platform owner's password in every test server.
pub const PASSWORD: &str = "test-password";

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

/// Calls a console server function the way the console's own page does (same Origin).
pub async fn server_fn(app: &TestApp, name: &str, form: &[(&str, &str)], cookie: Option<&str>) -> reqwest::Response {
    let mut req = client()
        .post(format!("{}/api/{name}", app.base))
        .header("origin", &app.base)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form_urlencoded(form));
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    req.send().await.unwrap()
}

pub fn form_urlencoded(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{k}={}",
                v.bytes()
                    .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
                    .collect::<String>()
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

/// Signs in as `admin`; returns the session cookie.
pub async fn signed_in(app: &TestApp) -> String {
    let res = server_fn(app, "sign_in", &[("username", "admin"), ("password", PASSWORD)], None).await;
    assert!(res.status().is_success() || res.status().is_redirection(), "{}", res.status());
    let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
    cookie.split(';').next().unwrap().to_owned()
}

/// Accepts an invitation link's token with `password`; the new user's session cookie, or the
/// refusal's status.
pub async fn accept_invitation(app: &TestApp, link: &str, password: &str) -> Result<String, reqwest::StatusCode> {
    let token = link.rsplit('/').next().unwrap();
    let res = server_fn(app, "accept_invitation", &[("token", token), ("password", password)], None).await;
    if !(res.status().is_success() || res.status().is_redirection()) {
        return Err(res.status());
    }
    let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
    Ok(cookie.split(';').next().unwrap().to_owned())
}

impl TestApp {
    /// A REST call (`account_check`) as the administrator with a UserSig signed by `key`;
    /// answers its ErrorCode.
    pub async fn error_code_with_key(&self, key: &str) -> u64 {
        let sig = messaging::usersig::sign(SDKAPPID, key, ADMIN, 3600, now());
        let q = format!("sdkappid={SDKAPPID}&identifier={ADMIN}&usersig={sig}&random=1&contenttype=json");
        let r =
            self.post_raw("im_open_login_svc/account_check", &q, serde_json::json!({ "CheckItem": [{ "UserID": "x" }] }).to_string()).await;
        r["ErrorCode"].as_u64().unwrap()
    }
}

/// The delivery clock: retries of webhook events and push batches wait on it, and a test moves
/// it forward instead of sleeping through the backoff.
impl TestApp {
    pub fn node(&self) -> &messaging::Messaging {
        self.node.as_ref().expect("an in-process server (spawn_app or Restartable)")
    }

    /// Waits (up to 10 s) until `hooks` has `n` calls of `command`, with the delivery clock a
    /// minute further at every look: any backoff is over by the next one.
    pub async fn deliveries(&self, hooks: &crate::receiver::Receiver, command: &str, n: usize) -> Vec<crate::receiver::Call> {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let got = hooks.calls(command);
            if got.len() >= n || std::time::Instant::now() > end {
                return got;
            }
            self.node().advance_clock(60);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }

    /// Waits (up to 10 s) until no push job and no webhook event is left to deliver: after
    /// this nothing more can arrive, so a test may count what did.
    pub async fn deliveries_settled(&self) {
        let end = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let node = self.node();
            if node.pending_push_jobs().await.unwrap() == 0 && node.pending_webhooks().await.unwrap() == 0 {
                return;
            }
            assert!(std::time::Instant::now() < end, "deliveries still pending after 10 s");
            self.node().advance_clock(60);
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
}

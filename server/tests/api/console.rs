//! The console's HTTP side without a browser: the sign-in guard, the one-time link, cookies.

use server::config::Config;
use server::startup::Application;

/// A client that does not follow redirects, so the tests see where they point. Cookies are
/// carried by hand (reqwest's cookie store would re-feature reqwest and rebuild half the tree).
fn client() -> reqwest::Client {
    reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
}

fn location(res: &reqwest::Response) -> &str {
    res.headers().get("location").map(|v| v.to_str().unwrap()).unwrap_or_default()
}

#[tokio::test]
async fn signed_out_pages_redirect_to_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::for_tests(&format!("sqlite://{}/h.db", dir.path().display()));
    config.admin_password = Some("long password".into());
    let app = Application::build(config).await.unwrap();
    assert!(app.sign_in_path().is_none(), "with a password no link is minted");
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());
    for page in ["/", "/accounts", "/settings"] {
        let res = client().get(format!("{base}{page}")).send().await.unwrap();
        assert!(res.status().is_redirection(), "{page}: {}", res.status());
        assert_eq!(location(&res), "/login", "{page}");
    }
    let health = client().get(format!("{base}/healthz")).send().await.unwrap();
    assert_eq!(health.status(), 200);
}

#[tokio::test]
async fn the_one_time_link_signs_in_once_with_an_httponly_lax_cookie() {
    let dir = tempfile::tempdir().unwrap();
    let app = Application::build(Config::for_tests(&format!("sqlite://{}/h.db", dir.path().display()))).await.unwrap();
    let path = app.sign_in_path().expect("a first start without password mints a link").to_owned();
    let base = format!("http://{}", app.addr());
    tokio::spawn(app.run_until_stopped());

    let browser = client();
    let res = browser.get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(location(&res), "/settings");
    let cookie = res.headers().get("set-cookie").expect("a session cookie").to_str().unwrap().to_owned();
    assert!(cookie.starts_with("herald_session="), "{cookie}");
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");

    let session = cookie.split(';').next().unwrap().to_owned();
    let accounts = browser.get(format!("{base}/accounts")).header("cookie", session).send().await.unwrap();
    assert_eq!(accounts.status(), 200, "the session opens the console");
    let html = accounts.text().await.unwrap();
    assert!(html.contains("Official accounts"), "server-rendered page");
    assert!(html.contains("/pkg/herald"), "asks for the hydration bundle");

    let again = client().get(format!("{base}{path}")).send().await.unwrap();
    assert_eq!(location(&again), "/login?link=invalid", "a link works once");
}

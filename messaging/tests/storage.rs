//! Storage tests, run against a real SQLite file and, when `HERALD_TEST_PG_URL` is set
//! (scripts/test.sh always sets it), a fresh database on that PostgreSQL server.

use messaging::{
    AccountProfile, Error, Messaging, NewAccount, NewUser, OfficialAccountId, ProfileFields, ProfileUpdate, UnknownOwner, UserId,
};
use std::future::Future;

/// Opens a fresh database on every backend and runs `test` on each.
async fn on_each_backend<F, Fut>(test: F)
where
    F: Fn(Messaging) -> Fut,
    Fut: Future<Output = ()>,
{
    on_each_database(|url| {
        let test = &test;
        async move {
            let m = Messaging::open(&url).await.unwrap();
            test(m.clone()).await;
            m.close().await;
        }
    })
    .await;
}

/// Runs `test` with the URL of a fresh database on every backend (tests that open it twice,
/// as two server nodes would).
async fn on_each_database<F, Fut>(test: F)
where
    F: Fn(String) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = tempfile::tempdir().unwrap();
    test(format!("sqlite://{}/herald.db", dir.path().display())).await;
    if let Some(url) = fresh_postgres_database().await {
        test(url.clone()).await;
        drop_postgres_database(&url).await;
    }
}

/// Removes a database made by [`fresh_postgres_database`] (only after a passing test: a failed
/// one keeps its database for a look).
async fn drop_postgres_database(url: &str) {
    use sqlx::Connection;
    let admin_url = std::env::var("HERALD_TEST_PG_URL").unwrap();
    let name = url.rsplit('/').next().unwrap();
    let mut admin = sqlx::PgConnection::connect(&admin_url).await.unwrap();
    sqlx::query(&format!("drop database if exists {name} with (force)")).execute(&mut admin).await.unwrap();
}

/// A new, empty database on the server at HERALD_TEST_PG_URL, or None when it is unset.
/// Set but unreachable is a failure, never a silent skip.
async fn fresh_postgres_database() -> Option<String> {
    use sqlx::Connection;
    let Ok(url) = std::env::var("HERALD_TEST_PG_URL") else {
        eprintln!("HERALD_TEST_PG_URL is unset: PostgreSQL half of this test skipped");
        return None;
    };
    let mut admin =
        sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| panic!("HERALD_TEST_PG_URL is set but PostgreSQL is unreachable: {e}"));
    let name = format!("herald_test_{}", rand_suffix());
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
    let base = url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&url);
    Some(format!("{base}/{name}"))
}

fn rand_suffix() -> String {
    use std::time::{SystemTime, UNIX_EPOCH};
    let nanos = SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_nanos();
    format!("{nanos:x}{:x}", std::process::id())
}

fn user(id: &str) -> UserId {
    UserId::parse("UserID", id).unwrap()
}

fn new_account(owner: &str, id: Option<&str>, name: &str) -> NewAccount {
    NewAccount {
        owner: user(owner),
        id: id.map(|s| OfficialAccountId::parse_custom("OfficialAccountUserID", s).unwrap()),
        profile: AccountProfile::parse(ProfileFields { name: Some(name.into()), ..Default::default() }).unwrap(),
    }
}

#[tokio::test]
async fn an_account_is_stored_and_read_back_with_defaults() {
    on_each_backend(|m| async move {
        m.import_user(&NewUser::bare(user("alice"))).await.unwrap();
        let created = m.create_account(new_account("alice", None, "Daily 新闻"), UnknownOwner::Refuse, "admin").await.unwrap();
        assert!(created.id.starts_with("@TOA#_@TOA#"), "generated IDs carry the system prefix: {}", created.id);
        assert!(created.id.len() <= 48);
        let read = m.account(&OfficialAccountId::parse("x", &created.id).unwrap()).await.unwrap();
        assert_eq!(read, created);
        assert_eq!(read.name, "Daily 新闻");
        assert_eq!(read.owner, "alice");
        assert_eq!(read.max_subscriber_num, 100_000);
        assert_eq!(read.subscriber_num, 0);
        assert!(read.create_time > 1_700_000_000);
    })
    .await;
}

#[tokio::test]
async fn an_unknown_owner_is_refused_or_imported_as_the_caller_asks() {
    on_each_backend(|m| async move {
        let err = m.create_account(new_account("ghost", None, "A"), UnknownOwner::Refuse, "admin").await.unwrap_err();
        assert!(matches!(err, Error::UserNotImported(ref u) if u == "ghost"), "{err:?}");
        assert!(!m.user_exists(&user("ghost")).await.unwrap(), "a refused create imports nobody");
        assert!(m.search_accounts("", 10).await.unwrap().is_empty(), "and stores no account");

        m.create_account(new_account("ghost", None, "A"), UnknownOwner::Import, "admin").await.unwrap();
        assert!(m.user_exists(&user("ghost")).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn an_id_is_never_reused_even_after_its_account_is_destroyed() {
    on_each_backend(|m| async move {
        m.import_user(&NewUser::bare(user("bob"))).await.unwrap();
        m.create_account(new_account("bob", Some("@TOA#_news"), "News"), UnknownOwner::Refuse, "admin").await.unwrap();
        let dup = m.create_account(new_account("bob", Some("@TOA#_news"), "Again"), UnknownOwner::Refuse, "admin").await;
        assert!(matches!(dup, Err(Error::AccountIdTaken(_))), "{dup:?}");

        let id = OfficialAccountId::parse("x", "@TOA#_news").unwrap();
        m.destroy_account(&id).await.unwrap();
        assert!(matches!(m.account(&id).await, Err(Error::AccountNotFound(_))));
        assert!(matches!(m.destroy_account(&id).await, Err(Error::AccountNotFound(_))));
        let reuse = m.create_account(new_account("bob", Some("@TOA#_news"), "Reborn"), UnknownOwner::Refuse, "admin").await;
        assert!(matches!(reuse, Err(Error::AccountIdTaken(_))), "{reuse:?}");
    })
    .await;
}

#[tokio::test]
async fn modify_changes_only_the_given_fields() {
    on_each_backend(|m| async move {
        m.import_user(&NewUser::bare(user("carol"))).await.unwrap();
        let a = m.create_account(new_account("carol", Some("@TOA#_m"), "Before"), UnknownOwner::Refuse, "admin").await.unwrap();
        let id = OfficialAccountId::parse("x", &a.id).unwrap();
        let update =
            ProfileUpdate::parse(ProfileFields { introduction: Some("hello".into()), max_subscriber_num: Some(7), ..Default::default() })
                .unwrap();
        let after = m.modify_account(&id, &update, "admin").await.unwrap();
        assert_eq!(after.name, "Before");
        assert_eq!(after.introduction, "hello");
        assert_eq!(after.max_subscriber_num, 7);
        let missing = OfficialAccountId::parse("x", "@TOA#_missing").unwrap();
        assert!(matches!(m.modify_account(&missing, &update, "admin").await, Err(Error::AccountNotFound(_))));
    })
    .await;
}

#[tokio::test]
async fn search_matches_name_id_or_owner_ignoring_case_and_treats_wildcards_literally() {
    on_each_backend(|m| async move {
        for (owner, id, name) in
            [("dora", "@TOA#_sports", "Sports Daily"), ("ed", "@TOA#_cook", "100% Cooking"), ("ed", "@TOA#_tech", "aXb Tech")]
        {
            m.create_account(new_account(owner, Some(id), name), UnknownOwner::Import, "admin").await.unwrap();
        }
        let names = |v: Vec<messaging::OfficialAccount>| {
            let mut n: Vec<String> = v.into_iter().map(|a| a.name).collect();
            n.sort();
            n
        };
        assert_eq!(names(m.search_accounts("", 10).await.unwrap()).len(), 3);
        assert_eq!(names(m.search_accounts("SPORTS", 10).await.unwrap()), ["Sports Daily"]);
        assert_eq!(names(m.search_accounts("ed", 10).await.unwrap()), ["100% Cooking", "aXb Tech"]);
        assert_eq!(names(m.search_accounts("%", 10).await.unwrap()), ["100% Cooking"]);
        assert!(m.search_accounts("a_b", 10).await.unwrap().is_empty(), "_ is not a wildcard");
        assert_eq!(names(m.search_accounts("axb", 10).await.unwrap()), ["aXb Tech"]);
        assert_eq!(m.search_accounts("", 2).await.unwrap().len(), 2, "the limit holds");
    })
    .await;
}

#[tokio::test]
async fn users_are_imported_checked_and_deleted() {
    on_each_backend(|m| async move {
        m.import_users(&[user("u1"), user("u2")]).await.unwrap();
        m.import_users(&[user("u1")]).await.unwrap(); // again: no error
        assert_eq!(m.check_users(&[user("u1"), user("u3")]).await.unwrap(), [true, false]);
        let deleted = m.delete_users(&[user("u2"), user("u3")]).await.unwrap();
        assert_eq!(deleted, [messaging::Deleted::Yes, messaging::Deleted::NotImported]);
        assert!(!m.user_exists(&user("u2")).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn the_environment_password_creates_the_owner_once_and_never_reverts_a_change() {
    on_each_backend(|m| async move {
        assert_eq!(m.console().ensure_platform_owner(Some("s3cret-password")).await.unwrap(), None);
        let who = m.console().sign_in("admin", "s3cret-password", "10.0.0.1").await.unwrap();
        assert_eq!(who.role, messaging::Role::PlatformOwner);
        let wrong = m.console().sign_in("admin", "nope", "10.0.0.1").await.unwrap_err().to_string();
        let nobody = m.console().sign_in("nobody", "s3cret-password", "10.0.0.1").await.unwrap_err().to_string();
        assert_eq!(wrong, nobody, "the same answer whatever was wrong");
        // Changed in the console, then a restart with the old environment password: kept.
        m.console().change_console_password("admin", "s3cret-password", "violet-tandem-quarry-42", "10.0.0.1").await.unwrap();
        m.console().ensure_platform_owner(Some("s3cret-password")).await.unwrap();
        assert!(m.console().sign_in("admin", "s3cret-password", "10.0.0.1").await.is_err());
        assert!(m.console().sign_in("admin", "violet-tandem-quarry-42", "10.0.0.1").await.is_ok());
        // A change needs the current password.
        let e = m.console().change_console_password("admin", "wrong-current", "another-password", "10.0.0.1").await.unwrap_err();
        assert_eq!(e.field(), Some("current_password"), "{e}");
        // A lost password: reset, and the printed link signs in once.
        let token = m.console().reset_console_password("admin").await.unwrap();
        assert!(m.console().sign_in("admin", "violet-tandem-quarry-42", "10.0.0.1").await.is_err(), "the old password is gone");
        assert_eq!(m.console().redeem_sign_in_token(&token).await.unwrap().username, "admin");
    })
    .await;
}

#[tokio::test]
async fn without_a_password_a_one_time_link_signs_in_once() {
    on_each_backend(|m| async move {
        let older = m.console().ensure_platform_owner(None).await.unwrap().expect("a first start without password prints a link");
        let token = m.console().ensure_platform_owner(None).await.unwrap().expect("a second start prints a new link");
        assert!(m.console().redeem_sign_in_token(&older).await.is_err(), "a new link revokes the older one");
        assert!(m.console().sign_in("admin", "", "10.0.0.1").await.is_err(), "no password works before one is set");
        let unused = m.console().issue_sign_in_token("admin").await.unwrap();
        let token =
            if m.console().redeem_sign_in_token(&token).await.is_ok() { panic!("issuing a link revokes older ones") } else { unused };
        assert_eq!(m.console().redeem_sign_in_token(&token).await.unwrap().username, "admin");
        assert!(m.console().redeem_sign_in_token(&token).await.is_err(), "a link works once");
        assert!(m.console().redeem_sign_in_token("made-up").await.is_err());
        let weak = m.console().change_console_password("admin", "", "password1234", "10.0.0.1").await.unwrap_err();
        assert_eq!(weak.field(), Some("password"), "12 characters and a zxcvbn score of 3: {weak}");
        let spare = m.console().issue_sign_in_token("admin").await.unwrap();
        m.console().change_console_password("admin", "", "violet-tandem-quarry-42", "10.0.0.1").await.unwrap();
        assert!(m.console().redeem_sign_in_token(&spare).await.is_err(), "setting a password revokes links");
        assert!(m.console().sign_in("admin", "violet-tandem-quarry-42", "10.0.0.1").await.is_ok());
        assert_eq!(m.console().ensure_platform_owner(None).await.unwrap(), None, "no new link once a password exists");
    })
    .await;
}

#[tokio::test]
async fn the_rest_identity_is_generated_once_and_kept() {
    on_each_backend(|m| async move {
        let first = m.load_identity(None, None).await.unwrap();
        let key = m.secret_key();
        let again = m.load_identity(None, None).await.unwrap();
        assert_eq!((first.clone(), key.clone()), (again, m.secret_key()));
        assert!(!first.from_environment);
        assert_eq!(key.len(), 64);
        let env = m.load_identity(Some(1400000123), Some("k".into())).await.unwrap();
        assert_eq!((env.sdkappid, m.secret_key().as_str(), env.from_environment), (1400000123, "k", true));
        assert!(m.rotate_secret_key(3600).await.is_err(), "a key from the environment is rotated there");
    })
    .await;
}

#[tokio::test]
async fn a_rotated_key_keeps_working_for_its_grace_period_and_then_stops() {
    use messaging::usersig::{sign, UserSigError};
    on_each_backend(|m| async move {
        let id = m.load_identity(None, None).await.unwrap();
        let now = || m.now();
        let old_sig = sign(id.sdkappid, &m.secret_key(), "administrator", 86400, now());
        assert!(m.check_usersig(&old_sig, id.sdkappid, "administrator", now()).is_ok());
        let generation = m.key_generation();

        let new_key = m.rotate_secret_key(2).await.unwrap();
        assert_eq!(m.secret_key(), new_key);
        assert_ne!(m.key_generation(), generation, "caches of verified UserSigs start over");
        let new_sig = sign(id.sdkappid, &new_key, "administrator", 86400, now());
        let during = m.check_usersig(&old_sig, id.sdkappid, "administrator", now()).expect("the old key works during its grace period");
        assert!(during.until <= now() + 2, "an old-key UserSig is good only until the grace period ends");
        assert!(m.check_usersig(&new_sig, id.sdkappid, "administrator", now()).is_ok());
        assert!(m.identity().previous_key_until.is_some());

        m.advance_clock(3);
        assert_eq!(
            m.check_usersig(&old_sig, id.sdkappid, "administrator", now()),
            Err(UserSigError::BadSignature),
            "after the grace period the old key is refused"
        );
        assert!(m.check_usersig(&new_sig, id.sdkappid, "administrator", now()).is_ok());

        // No grace at all: the old key stops at once.
        let newest = m.rotate_secret_key(0).await.unwrap();
        assert_eq!(m.check_usersig(&new_sig, id.sdkappid, "administrator", now()), Err(UserSigError::BadSignature));
        assert!(m.check_usersig(&sign(id.sdkappid, &newest, "administrator", 60, now()), id.sdkappid, "administrator", now()).is_ok());
        assert!(m.rotate_secret_key(8 * 24 * 3600).await.is_err(), "a week at most");
    })
    .await;
}

#[tokio::test]
async fn saved_settings_apply_and_the_environment_wins() {
    on_each_backend(|m| async move {
        m.load_identity(None, None).await.unwrap();
        m.load_settings().await.unwrap();
        assert_eq!(m.settings(), messaging::AppSettings::DEFAULT);
        let mut values = messaging::AppSettings::DEFAULT;
        values.broadcasts_per_hour = 50;
        values.webhook_url = Some("https://hooks.example/herald".into());
        m.save_settings(&messaging::SettingsChange { values: values.clone(), webhook_secret: Some("s3cret".into()) }).await.unwrap();
        assert_eq!(m.settings(), values);
        assert!(m.settings_view().webhook_secret_set);
        assert_eq!(m.limits().broadcasts_per_hour, 50);

        let mut bad = values.clone();
        bad.push_url = Some("ftp://x".into());
        let e = m.save_settings(&messaging::SettingsChange { values: bad, webhook_secret: None }).await.unwrap_err();
        assert_eq!(e.field(), Some("push_url"));
        assert_eq!(m.settings(), values, "a refused change changes nothing");

        // The environment wins, and its fields cannot be changed from the console.
        let sources = vec![(messaging::SettingField::BroadcastsPerHour, "BROADCASTS_VAR".to_owned())];
        let m = m.with_settings_overrides(messaging::SettingsOverrides { broadcasts_per_hour: Some(7), sources, ..Default::default() });
        m.load_settings().await.unwrap();
        assert_eq!(m.settings().broadcasts_per_hour, 7);
        let from_environment =
            messaging::FromEnvironment { field: messaging::SettingField::BroadcastsPerHour, variable: "BROADCASTS_VAR".into() };
        assert_eq!(m.settings_view().from_environment, vec![from_environment], "named as the front door said");
        let mut change = m.settings();
        change.broadcasts_per_hour = 9;
        let e = m.save_settings(&messaging::SettingsChange { values: change, webhook_secret: None }).await.unwrap_err();
        assert_eq!(e.field(), Some("broadcasts_per_hour"), "{e}");
        assert!(e.to_string().contains("set by BROADCASTS_VAR"), "the refusal names where it was set: {e}");
        let audit = m.audit_log(&messaging::audit::AuditQuery { limit: 10, ..Default::default() }).await.unwrap();
        assert_eq!(audit.iter().filter(|e| e.action == "settings.changed").count(), 1, "one change stored, one audited: {audit:?}");
    })
    .await;
}

#[tokio::test]
async fn both_backends_have_the_same_schema() {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = Messaging::open(&format!("sqlite://{}/s.db", dir.path().display())).await.unwrap();
    let Some(url) = fresh_postgres_database().await else { return };
    let pg = Messaging::open(&url).await.unwrap();
    let (s, p) = (sqlite.schema().await.unwrap(), pg.schema().await.unwrap());
    assert!(s.iter().any(|(t, _)| t == "official_account"), "{s:?}");
    let send = &s.iter().find(|(t, _)| t == "broadcast_send").expect("broadcast_send").1;
    assert!(send.contains(&"sent_at bigint not null".to_owned()), "types and nullability are compared: {send:?}");
    assert!(send.contains(&"index broadcast_send_by_account (account_id, sent_at)".to_owned()), "indexes too: {send:?}");
    assert_eq!(s, p, "messaging/migrations/sqlite and messaging/migrations/postgres drifted apart");
    pg.close().await;
    drop_postgres_database(&url).await;
}

#[tokio::test]
async fn a_due_scheduled_post_is_published_exactly_once_by_two_nodes_racing() {
    use messaging::{AppLimits, PostStatus};
    on_each_database(|url| async move {
        let limits = AppLimits { broadcasts_per_second: 100, broadcasts_per_hour: 1000, ..AppLimits::default() };
        let a = Messaging::open(&url).await.unwrap().with_limits(limits);
        let b = Messaging::open(&url).await.unwrap().with_limits(limits);
        let account = a.create_account(new_account("racer", None, "Race"), UnknownOwner::Import, "test").await.unwrap();
        let id = OfficialAccountId::parse("Official_Account", &account.id).unwrap();
        let posts = posts_due_now(&a, &id, 5, &[&a, &b]).await;
        // Both nodes look for due posts at once, several times over.
        let mut published = 0;
        for _ in 0..3 {
            let (x, y) = tokio::join!(a.publish_due_posts(), b.publish_due_posts());
            published += x.unwrap() + y.unwrap();
        }
        assert_eq!(published, 5, "each due post is claimed by exactly one node");
        let history = a.broadcast_history(&id, 100, None, true).await.unwrap();
        assert_eq!(history.messages.len(), 5, "five posts, five broadcasts");
        for post in &posts {
            let stored = b.post(&id, post).await.unwrap();
            assert_eq!(stored.status, PostStatus::Sent);
            assert!(stored.msg_key.is_some());
        }
        a.close().await;
        b.close().await;
    })
    .await;
}

#[tokio::test]
async fn a_refused_scheduled_post_records_the_sentence_and_is_not_retried() {
    use messaging::{AppLimits, PostStatus};
    on_each_backend(|m| async move {
        let m = m.with_limits(AppLimits { broadcasts_per_second: 100, broadcasts_per_hour: 1, ..AppLimits::default() });
        let account = m.create_account(new_account("limited", None, "Limited"), UnknownOwner::Import, "test").await.unwrap();
        let id = OfficialAccountId::parse("Official_Account", &account.id).unwrap();
        let ids = posts_due_now(&m, &id, 2, &[&m]).await;
        assert_eq!(m.publish_due_posts().await.unwrap(), 2, "both are taken: one sent, one refused");
        assert_eq!(m.publish_due_posts().await.unwrap(), 0, "a refusal is not retried");
        let statuses: Vec<PostStatus> = statuses_of(&m, &id, &ids).await;
        assert!(statuses.contains(&PostStatus::Sent) && statuses.contains(&PostStatus::Failed), "{statuses:?}");
        let failed = m.unsent_posts(&id).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].failure.as_deref().unwrap_or_default().contains("per hour"), "{:?}", failed[0].failure);
    })
    .await;
}

async fn statuses_of(m: &Messaging, id: &OfficialAccountId, posts: &[String]) -> Vec<messaging::PostStatus> {
    let mut out = Vec::new();
    for p in posts {
        out.push(m.post(id, p).await.unwrap().status);
    }
    out
}

/// `n` text posts of `account` scheduled a second ahead; returns once they are due.
async fn posts_due_now(m: &Messaging, account: &OfficialAccountId, n: usize, nodes: &[&Messaging]) -> Vec<String> {
    use messaging::post::{PostContent, PostKind};
    let mut ids = Vec::new();
    for i in 0..n {
        let content = PostContent { kind: PostKind::Text, body: format!("scheduled {i}"), images: vec![], poll: None };
        let post = m.save_post(account, None, &content, "editor").await.unwrap();
        m.schedule_post(account, &post.id, Some(m.now() + 5)).await.unwrap();
        ids.push(post.id);
    }
    // Due: every node's clock moves past the time, nobody sleeps.
    for node in nodes {
        node.advance_clock(10);
    }
    ids
}

#[tokio::test]
async fn only_the_platform_owner_may_act_until_accounts_are_assigned() {
    use messaging::{Action, ConsoleUser, Role};
    on_each_backend(|m| async move {
        let account = m.create_account(new_account("guarded", None, "Guarded"), UnknownOwner::Import, "test").await.unwrap();
        let id = OfficialAccountId::parse("Official_Account", &account.id).unwrap();
        let owner = ConsoleUser { username: "admin".into(), role: Role::PlatformOwner };
        let editor = ConsoleUser { username: "ed".into(), role: Role::Editor };
        for action in [Action::ManageApp, Action::ManageAccount, Action::Publish, Action::View] {
            assert!(m.console().authorize(&owner, action, Some(&id)).await.is_ok(), "{action:?}");
        }
        let refused = m.console().authorize(&editor, Action::Publish, Some(&id)).await.unwrap_err();
        assert!(matches!(refused, Error::Forbidden(ref s) if s == "Your role cannot publish for this official account."), "{refused}");
        assert!(m.console().authorize(&editor, Action::ManageApp, None).await.is_err());
    })
    .await;
}

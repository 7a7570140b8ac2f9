//! Console users and roles over the console's own server functions: an invited editor sees and
//! works on their account only (refused by the server, not only hidden), weak passwords are
//! refused, disabling ends a session at its next request, and the last platform owner stays.

use crate::helpers::*;
use serde_json::Value;

#[tokio::test]
async fn an_invited_editor_works_on_their_account_only_and_disabling_them_ends_their_session() {
    let app = spawn_app().await;
    let a = app.an_account("owner", "@TOA#_teama", "Team A").await;
    let b = app.an_account("owner", "@TOA#_teamb", "Team B").await;
    let admin = signed_in(&app).await;
    let res = server_fn(&app, "invite_user", &[("username", "editor.one"), ("role", "editor"), ("accounts", &a)], Some(&admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
    let link: String = res.json().await.unwrap();
    assert!(link.starts_with("/invite/"), "{link}");

    assert_eq!(accept_invitation(&app, &link, "password1234").await.unwrap_err(), 422, "a weak password is refused");
    let editor = accept_invitation(&app, &link, "correct horse battery staple").await.expect("accepted");
    assert_eq!(accept_invitation(&app, &link, "correct horse battery staple").await.unwrap_err(), 403, "a link works once");

    let listed: Vec<Value> = server_fn(&app, "list_accounts", &[("search", "")], Some(&editor)).await.json().await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [a.as_str()], "the editor sees account A only");
    let own = server_fn(&app, "list_subscribers", &[("account", &a), ("prefix", ""), ("cursor", "")], Some(&editor)).await;
    assert!(own.status().is_success(), "{}", own.status());
    let other = server_fn(&app, "list_subscribers", &[("account", &b), ("prefix", ""), ("cursor", "")], Some(&editor)).await;
    assert_eq!(other.status(), 403, "B's server function refuses the editor");
    let settings = server_fn(&app, "list_team", &[], Some(&editor)).await;
    assert_eq!(settings.status(), 403, "only the platform owner manages users");

    let res = server_fn(&app, "set_user_disabled", &[("username", "editor.one"), ("disabled", "true")], Some(&admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
    let after = server_fn(&app, "list_subscribers", &[("account", &a), ("prefix", ""), ("cursor", "")], Some(&editor)).await;
    assert_eq!(after.status(), 401, "a disabled user's session ends at the next request");
    let again = server_fn(&app, "sign_in", &[("username", "editor.one"), ("password", "correct horse battery staple")], None).await;
    assert_eq!(again.status(), 403, "a disabled user cannot sign in");
}

#[tokio::test]
async fn the_last_platform_owner_can_be_neither_disabled_nor_demoted() {
    let app = spawn_app().await;
    let admin = signed_in(&app).await;
    let res = server_fn(&app, "set_user_disabled", &[("username", "admin"), ("disabled", "true")], Some(&admin)).await;
    assert_eq!(res.status(), 403);
    let res = server_fn(&app, "change_user_role", &[("username", "admin"), ("role", "viewer")], Some(&admin)).await;
    assert_eq!(res.status(), 403);
    // With a second owner, the first may step down.
    let res =
        server_fn(&app, "invite_user", &[("username", "owner.two"), ("role", "platform_owner"), ("accounts", "")], Some(&admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
    let res = server_fn(&app, "change_user_role", &[("username", "admin"), ("role", "viewer")], Some(&admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
}

#[tokio::test]
async fn the_platform_owner_assigns_a_viewer_to_another_account_and_takes_it_away() {
    let app = spawn_app().await;
    let a = app.an_account("owner", "@TOA#_viewa", "View A").await;
    let b = app.an_account("owner", "@TOA#_viewb", "View B").await;
    let admin = signed_in(&app).await;
    let res = server_fn(&app, "invite_user", &[("username", "viewer.one"), ("role", "viewer"), ("accounts", &a)], Some(&admin)).await;
    let link: String = res.json().await.unwrap();
    let viewer = accept_invitation(&app, &link, "correct horse battery staple").await.expect("accepted");
    let visible = |cookie: String| {
        let app = &app;
        async move {
            let listed: Vec<Value> = server_fn(app, "list_accounts", &[("search", "")], Some(&cookie)).await.json().await.unwrap();
            let mut ids: Vec<String> = listed.iter().map(|x| x["id"].as_str().unwrap().to_owned()).collect();
            ids.sort();
            ids
        }
    };
    assert_eq!(visible(viewer.clone()).await, std::slice::from_ref(&a));
    // A viewer reads the posts and is refused publishing, by the server.
    let posts = server_fn(&app, "list_posts", &[("account", &a)], Some(&viewer)).await;
    assert!(posts.status().is_success(), "{}", posts.status());
    let publish = server_fn(&app, "publish_post", &[("account", &a), ("id", "any-draft")], Some(&viewer)).await;
    assert_eq!(publish.status(), 403, "a viewer cannot publish");
    let res = server_fn(&app, "assign_person", &[("id", &b), ("username", "viewer.one"), ("assign", "true")], Some(&admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(visible(viewer.clone()).await, [a.clone(), b.clone()]);
    // The viewer may look, not manage: assigning is refused to them.
    let res = server_fn(&app, "assign_person", &[("id", &a), ("username", "viewer.one"), ("assign", "false")], Some(&viewer)).await;
    assert_eq!(res.status(), 403);
    let res = server_fn(&app, "assign_person", &[("id", &b), ("username", "viewer.one"), ("assign", "false")], Some(&admin)).await;
    assert!(res.status().is_success(), "{}", res.status());
    assert_eq!(visible(viewer).await, [a]);
    // Only editors and viewers are assigned.
    let res = server_fn(&app, "assign_person", &[("id", &b), ("username", "admin"), ("assign", "true")], Some(&admin)).await;
    assert_eq!(res.status(), 422);
}

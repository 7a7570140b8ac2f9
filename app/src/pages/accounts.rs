//! The **Official accounts** page: list with search, and the create / edit / delete dialogs.

use super::account_dialog::{AccountDialog, ConfirmDelete};
use super::layout::Frame;
use crate::error::ConsoleError;
use crate::time_fmt::utc_minutes;
use leptos::prelude::*;
use messaging::OfficialAccount;
use serde::{Deserialize, Serialize};

#[server(endpoint = "list_accounts", output = crate::codec::Json)]
pub async fn list_accounts(search: String) -> Result<Vec<OfficialAccount>, ConsoleError> {
    /// The page shows at most this many accounts; search narrows it down.
    const LIST_LIMIT: i64 = 200;
    let (state, user) = crate::ssr::signed_in().await?;
    Ok(state.messaging.accounts_visible_to(&user, &search, LIST_LIMIT).await?)
}

/// The dialog's fields as typed. `editing` is the ID of the account being edited, if any.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct AccountForm {
    pub editing: Option<String>,
    pub custom_id: String,
    pub owner: String,
    pub name: String,
    pub introduction: String,
    pub organization: String,
    pub face_url: String,
    pub max_subscriber_num: String,
}

/// Creates or edits an account through `messaging`, which holds every rule; an owner who is
/// not yet an imported user is imported (the dialog says so before Create).
#[server(input = leptos::server_fn::codec::Json, endpoint = "save_account", output = crate::codec::Json)]
pub async fn save_account(form: AccountForm) -> Result<OfficialAccount, ConsoleError> {
    use messaging::{AccountProfile, NewAccount, OfficialAccountId, ProfileFields, ProfileUpdate, UnknownOwner, UserId};
    let editing = form.editing.as_deref().map(crate::ssr::account_id).transpose()?;
    let (state, user) = match &editing {
        Some(id) => crate::ssr::allowed(messaging::Action::ManageAccount, Some(id)).await?,
        None => crate::ssr::allowed(messaging::Action::CreateAccount, None).await?,
    };
    let max_subscriber_num = match form.max_subscriber_num.trim() {
        "" => None,
        n => Some(
            n.parse::<i64>()
                .map_err(|_| ConsoleError::Invalid { field: "MaxSubscriberNum".into(), message: "Must be a whole number.".into() })?,
        ),
    };
    let fields = ProfileFields {
        name: Some(form.name),
        introduction: Some(form.introduction),
        face_url: Some(form.face_url),
        organization: Some(form.organization),
        custom_string: None,
        max_subscriber_num,
    };
    let m = &state.messaging;
    let account = match editing {
        Some(id) => m.modify_account(&id, &ProfileUpdate::parse(fields)?, &user.username).await?,
        None => {
            let owner = UserId::parse("Owner_Account", form.owner.trim())?;
            let id = match form.custom_id.trim() {
                "" => None,
                raw => Some(OfficialAccountId::parse_custom("OfficialAccountUserID", raw).map_err(messaging::Error::MalformedAccountId)?),
            };
            let new = NewAccount { owner, id, profile: AccountProfile::parse(fields)? };
            let created = m.create_account(new, UnknownOwner::Import, &user.username).await?;
            // An account owner who creates an account owns it (the platform owner owns all).
            if user.role != messaging::Role::PlatformOwner {
                let id = crate::ssr::account_id(&created.id)?;
                m.console().grant_ownership(&user.username, &id).await?;
            }
            created
        }
    };
    tracing::info!(account = %account.id, by = %user.username, "account saved in the console");
    Ok(account)
}

/// Whether an owner name is an imported user, for the dialog's note before Create.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OwnerCheck {
    pub owner: String,
    pub imported: bool,
    /// Set when the name breaks the user-ID rules.
    pub problem: Option<String>,
}

#[server(output = crate::codec::Json)]
pub async fn check_owner(owner: String) -> Result<OwnerCheck, ConsoleError> {
    let (state, _user) = crate::ssr::allowed(messaging::Action::CreateAccount, None).await?;
    match messaging::UserId::parse("Owner_Account", owner.trim()) {
        Err(e) => Ok(OwnerCheck { owner, imported: false, problem: Some(crate::error::sentence(&e.rule)) }),
        Ok(id) => Ok(OwnerCheck { imported: state.messaging.user_exists(&id).await?, owner, problem: None }),
    }
}

/// Destroys an account after the user typed its name.
#[server(output = crate::codec::Json)]
pub async fn delete_account(id: String, confirm_name: String) -> Result<(), ConsoleError> {
    let id = crate::ssr::account_id(&id)?;
    let (state, user) = crate::ssr::allowed(messaging::Action::ManageAccount, Some(&id)).await?;
    let account = state.messaging.account(&id).await?;
    if account.name != confirm_name {
        return Err(ConsoleError::Invalid { field: "confirm".into(), message: "Type the account's name exactly to confirm.".into() });
    }
    state.messaging.destroy_account(&id).await?;
    tracing::info!(account = %id, by = %user.username, "account destroyed in the console");
    Ok(())
}

/// Which dialog is open.
#[derive(Debug, Clone, PartialEq)]
enum Dialog {
    Create,
    Edit(OfficialAccount),
    Delete(OfficialAccount),
}

#[component]
pub fn AccountsPage() -> impl IntoView {
    let search = RwSignal::new(String::new());
    let version = RwSignal::new(0u32);
    let accounts = Resource::new(move || (search.get(), version.get()), |(s, _)| list_accounts(s));
    let dialog = RwSignal::new(None::<Dialog>);
    // Who may create accounts, and change the ones listed: the platform owner, and an account
    // owner (they see only their own accounts); editors and viewers neither.
    let me = Resource::new(|| (), |_| super::profile::who_am_i());
    let may = Signal::derive(move || {
        let role = me.get().and_then(Result::ok).map(|m| m.role);
        AccountRights {
            create: role.is_some_and(|r| r.may(messaging::Action::CreateAccount, messaging::roles::Access::None)),
            manage: role.is_some_and(|r| r.may(messaging::Action::ManageAccount, messaging::roles::Access::Owner)),
        }
    });
    let close = Callback::new(move |_: ()| dialog.set(None));
    let saved = Callback::new(move |_: ()| {
        dialog.set(None);
        version.update(|v| *v += 1);
    });

    let rows = move || {
        Suspend::new(async move {
            // The rows' Edit and Delete buttons depend on who is asking: known before the rows
            // render, so the server's HTML and the hydrated page show the same buttons.
            let _ = me.await;
            match accounts.await {
                Ok(list) if list.is_empty() => view! { <p class="empty">"No official accounts yet."</p> }.into_any(),
                Ok(list) => view! { <AccountTable accounts=list dialog may_manage=Signal::derive(move || may.get().manage)/> }.into_any(),
                Err(ConsoleError::SignedOut) => {
                    view! { <p role="alert">"You are signed out. " <a href="/login">"Sign in"</a></p> }.into_any()
                }
                Err(e) => view! { <p role="alert" class="form-error">{e.to_string()}</p> }.into_any(),
            }
        })
    };

    view! {
        <Frame>
            <div class="page-head">
                <h1>"Official accounts"</h1>
                <Transition fallback=|| ()>
                    {move || may.get().create.then(|| view! {
                        <button class="primary" on:click=move |_| dialog.set(Some(Dialog::Create))>"New account"</button>
                    })}
                </Transition>
            </div>
            <div class="search">
                <label for="account-search">"Search"</label>
                <input
                    id="account-search"
                    type="search"
                    placeholder="Name, ID or owner"
                    on:input=move |ev| search.set(event_target_value(&ev))
                />
            </div>
            <Transition fallback=|| view! { <p>"Loading…"</p> }>{rows}</Transition>
            {move || match dialog.get() {
                None => ().into_any(),
                Some(Dialog::Create) => view! { <AccountDialog editing=None on_close=close on_saved=saved/> }.into_any(),
                Some(Dialog::Edit(a)) => view! { <AccountDialog editing=Some(a) on_close=close on_saved=saved/> }.into_any(),
                Some(Dialog::Delete(a)) => view! { <ConfirmDelete account=a on_close=close on_deleted=saved/> }.into_any(),
            }}
        </Frame>
    }
}

/// What the accounts page lets the signed-in user do.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct AccountRights {
    create: bool,
    manage: bool,
}

#[component]
fn AccountTable(accounts: Vec<OfficialAccount>, dialog: RwSignal<Option<Dialog>>, may_manage: Signal<bool>) -> impl IntoView {
    view! {
        <table class="accounts">
            <thead>
                <tr>
                    <th scope="col">"Name"</th>
                    <th scope="col">"ID"</th>
                    <th scope="col">"Owner"</th>
                    <th scope="col">"Subscribers"</th>
                    <th scope="col">"Created"</th>
                    <th scope="col"><span class="visually-hidden">"Actions"</span></th>
                </tr>
            </thead>
            <tbody>
                {accounts
                    .into_iter()
                    .map(|a| {
                        let for_edit = a.clone();
                        let for_delete = a.clone();
                        view! {
                            <tr>
                                <td><a href=crate::paths::account(&a.id)>{a.name.clone()}</a></td>
                                <td><code>{a.id.clone()}</code></td>
                                <td>{a.owner.clone()}</td>
                                <td class="num">{a.subscriber_num}</td>
                                <td>{utc_minutes(a.create_time)}</td>
                                <td class="actions">
                                    {let (edit_label, delete_label) = (format!("Edit {}", a.name), format!("Delete {}", a.name));
                                     move || may_manage.get().then(|| {
                                        let (for_edit, for_delete) = (for_edit.clone(), for_delete.clone());
                                        view! {
                                            <button aria-label=edit_label.clone() on:click=move |_| dialog.set(Some(Dialog::Edit(for_edit.clone())))>
                                                "Edit"
                                            </button>
                                            <button class="danger" aria-label=delete_label.clone() on:click=move |_| dialog.set(Some(Dialog::Delete(for_delete.clone())))>
                                                "Delete"
                                            </button>
                                        }
                                    })}
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

//! The create / edit dialog with live byte counters, and the typed-name delete confirmation.
//!
//! Counters count UTF-8 bytes against the limits in `messaging::profile` (a CJK character is 3),
//! the same constants the server enforces. The server stays the judge: its sentence for a
//! broken rule appears next to the field it names.

use super::accounts::{AccountForm, CheckOwner, DeleteAccount, SaveAccount};
use super::dialog::ModalDialog;
use crate::error::ConsoleError;
use leptos::either::Either;
use leptos::ev::SubmitEvent;
use leptos::prelude::*;
use messaging::ids::{ACCOUNT_ID_MAX_BYTES, USER_ID_MAX_BYTES};
use messaging::profile::{FACE_URL, INTRODUCTION, NAME, ORGANIZATION};
use messaging::{OfficialAccount, TextLimit};

/// The custom ID counts bytes like the other fields (it is ASCII, so bytes are characters).
const CUSTOM_ID: TextLimit = TextLimit { field: "OfficialAccountUserID", max_bytes: ACCOUNT_ID_MAX_BYTES };

/// A labelled text input (or textarea) with an optional byte counter and its error sentence.
#[component]
fn TextField(
    id: &'static str,
    label: &'static str,
    value: RwSignal<String>,
    #[prop(optional)] limit: Option<TextLimit>,
    #[prop(into)] error: Signal<Option<String>>,
    #[prop(optional)] readonly: bool,
    #[prop(optional)] multiline: bool,
    #[prop(optional)] placeholder: &'static str,
) -> impl IntoView {
    let described_by = format!("{id}-count {id}-error");
    let over = move || limit.is_some_and(|l| value.with(|v| v.len() > l.max_bytes));
    let invalid = move || (over() || error.get().is_some()).to_string();
    let on_input = move |ev| value.set(event_target_value(&ev));
    let input = if multiline {
        Either::Left(view! {
            <textarea id=id rows="3" aria-describedby=described_by.clone() aria-invalid=invalid readonly=readonly
                prop:value=move || value.get() on:input=on_input placeholder=placeholder></textarea>
        })
    } else {
        Either::Right(view! {
            <input id=id type="text" aria-describedby=described_by.clone() aria-invalid=invalid readonly=readonly
                prop:value=move || value.get() on:input=on_input placeholder=placeholder/>
        })
    };
    view! {
        <div class="field">
            <label for=id>{label}</label>
            {input}
            {limit.map(|l| view! {
                <span class="counter" id=format!("{id}-count") class:over=over>
                    {move || format!("{} / {} bytes", value.with(|v| v.len()), l.max_bytes)}
                </span>
            })}
            <p class="field-error" id=format!("{id}-error")>{move || error.get()}</p>
        </div>
    }
}

#[component]
pub fn AccountDialog(editing: Option<OfficialAccount>, on_close: Callback<()>, on_saved: Callback<()>) -> impl IntoView {
    let is_edit = editing.is_some();
    let a = editing.clone().unwrap_or_default();
    let custom_id = RwSignal::new(if is_edit { a.id.clone() } else { String::new() });
    let owner = RwSignal::new(a.owner.clone());
    let name = RwSignal::new(a.name.clone());
    let introduction = RwSignal::new(a.introduction.clone());
    let organization = RwSignal::new(a.organization.clone());
    let face_url = RwSignal::new(a.face_url.clone());
    let max_subscribers = RwSignal::new(if is_edit { a.max_subscriber_num.to_string() } else { String::new() });

    let save = ServerAction::<SaveAccount>::new();
    let owner_check = ServerAction::<CheckOwner>::new();
    Effect::new(move |_| {
        if let Some(Ok(_)) = save.value().get() {
            on_saved.run(());
        }
    });
    let error_for =
        move |field: &'static str| Signal::derive(move || save.value().get().and_then(|r| r.err()).and_then(|e| e.message_for(field)));
    let general_error =
        move || save.value().get().and_then(|r| r.err()).filter(|e| !matches!(e, ConsoleError::Invalid { .. })).map(|e| e.to_string());
    // The note under Owner: says before Create that an unknown owner will be imported.
    let owner_note = move || {
        let current = owner.get();
        match owner_check.value().get() {
            Some(Ok(s)) if s.owner == current && !current.trim().is_empty() => match s.problem {
                Some(p) => Some(p),
                None if !s.imported => Some(format!("{} is not an imported user yet; Create will import them.", s.owner.trim())),
                None => Some(format!("{} is an imported user.", s.owner.trim())),
            },
            _ => None,
        }
    };

    let editing_id = editing.as_ref().map(|a| a.id.clone());
    let avatar_account = editing_id.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        save.dispatch(SaveAccount {
            form: AccountForm {
                editing: editing_id.clone(),
                custom_id: custom_id.get_untracked(),
                owner: owner.get_untracked(),
                name: name.get_untracked(),
                introduction: introduction.get_untracked(),
                organization: organization.get_untracked(),
                face_url: face_url.get_untracked(),
                max_subscriber_num: max_subscribers.get_untracked(),
            },
        });
    };
    let title = if is_edit { "Edit official account" } else { "New official account" };

    view! {
        <ModalDialog labelled_by="dialog-title" on_close first_field="account-name">
                <h2 id="dialog-title">{title}</h2>
                <form on:submit=submit novalidate>
                    <TextField id="account-name" label="Name" value=name limit=NAME error=error_for("Name")/>
                    <div class="field">
                        <label for="account-owner">"Owner"</label>
                        <input id="account-owner" type="text" aria-describedby="account-owner-count account-owner-note account-owner-error"
                            readonly=is_edit prop:value=move || owner.get()
                            on:input=move |ev| {
                                let v = event_target_value(&ev);
                                owner.set(v.clone());
                                if !v.trim().is_empty() {
                                    owner_check.dispatch(CheckOwner { owner: v });
                                }
                            }/>
                        <span class="counter" id="account-owner-count" class:over=move || owner.with(|v| v.len() > USER_ID_MAX_BYTES)>
                            {move || format!("{} / {USER_ID_MAX_BYTES} bytes", owner.with(|v| v.len()))}
                        </span>
                        <p class="field-note" id="account-owner-note" role="status">{owner_note}</p>
                        <p class="field-error" id="account-owner-error">{move || error_for("Owner_Account").get()}</p>
                    </div>
                    <TextField id="account-introduction" label="Introduction" value=introduction limit=INTRODUCTION
                        error=error_for("Introduction") multiline=true/>
                    <TextField id="account-organization" label="Organization" value=organization limit=ORGANIZATION
                        error=error_for("Organization")/>
                    <TextField id="account-face-url" label="Avatar URL" value=face_url limit=FACE_URL
                        error=error_for("FaceUrl") placeholder="https://…"/>
                    <AvatarUpload face_url account=avatar_account.clone()/>
                    <TextField id="account-custom-id" label=if is_edit { "ID" } else { "Custom ID (optional)" }
                        value=custom_id limit=CUSTOM_ID error=error_for("OfficialAccountUserID") readonly=is_edit
                        placeholder="@TOA#_… (leave empty to generate one)"/>
                    <TextField id="account-max-subscribers" label="Max subscribers" value=max_subscribers
                        error=error_for("MaxSubscriberNum") placeholder="100000"/>
                    <p class="form-error" role="alert">{general_error}</p>
                    <div class="buttons">
                        <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                        <button type="submit" class="primary" disabled=move || save.pending().get()>
                            {if is_edit { "Save" } else { "Create" }}
                        </button>
                    </div>
                </form>
        </ModalDialog>
    }
}

/// Asks for the account's name before destroying it.
#[component]
pub fn ConfirmDelete(account: OfficialAccount, on_close: Callback<()>, on_deleted: Callback<()>) -> impl IntoView {
    let typed = RwSignal::new(String::new());
    let delete = ServerAction::<DeleteAccount>::new();
    Effect::new(move |_| {
        if let Some(Ok(())) = delete.value().get() {
            on_deleted.run(());
        }
    });
    let name = account.name.clone();
    let matches = move || typed.with(|t| *t == name);
    let id = account.id.clone();
    let submit = move |ev: SubmitEvent| {
        ev.prevent_default();
        delete.dispatch(DeleteAccount { id: id.clone(), confirm_name: typed.get_untracked() });
    };
    let error = move || delete.value().get().and_then(|r| r.err()).map(|e| e.to_string());
    view! {
        <ModalDialog labelled_by="delete-title" on_close first_field="confirm-name">
                <h2 id="delete-title">"Delete official account"</h2>
                <p>
                    "This destroys " <strong>{account.name.clone()}</strong> " (" <code>{account.id.clone()}</code>
                    "). Subscribers lose it, and its ID can never be used again."
                </p>
                <form on:submit=submit>
                    <div class="field">
                        <label for="confirm-name">"Type the account's name to confirm"</label>
                        <input id="confirm-name" type="text" autocomplete="off"
                            prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev))/>
                    </div>
                    <p class="form-error" role="alert">{error}</p>
                    <div class="buttons">
                        <button type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                        <button type="submit" class="danger" disabled=move || !matches() || delete.pending().get()>
                            "Delete"
                        </button>
                    </div>
                </form>
        </ModalDialog>
    }
}

/// Upload avatar: the picked image is cropped to a centred square and resized to 512×512 by the
/// server, stored like post images, and its URL becomes the Avatar URL.
#[component]
fn AvatarUpload(face_url: RwSignal<String>, account: Option<String>) -> impl IntoView {
    let progress = RwSignal::new(None::<u32>);
    let error = RwSignal::new(None::<String>);
    #[cfg(not(feature = "hydrate"))]
    let _ = &account;
    let on_pick = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            let Some(input) = _ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok()) else { return };
            let Some(file) = input.files().and_then(|f| f.get(0)) else { return };
            input.set_value("");
            error.set(None);
            progress.set(Some(0));
            crate::pages::composer::upload_file(
                file,
                "avatar",
                account.as_deref(),
                move |p| progress.set(Some(p)),
                move |result| {
                    progress.set(None);
                    match result {
                        Ok(image) => face_url.set(image.original.url),
                        Err(why) => error.set(Some(why)),
                    }
                },
            );
        }
    };
    let own_image = move || face_url.with(|u| messaging::post::is_media_url(u)).then(|| face_url.get());
    view! {
        <div class="field avatar-upload">
            <label for="account-avatar-file">"Upload avatar"</label>
            <input id="account-avatar-file" type="file" accept="image/jpeg,image/png,image/gif,image/webp"
                aria-describedby="account-avatar-error" on:change=on_pick/>
            {move || progress.get().map(|p| view! {
                <progress aria-label="Uploading avatar" max="100" value=p.to_string()>{format!("{p}%")}</progress>
            })}
            {move || own_image().map(|src| view! { <img class="avatar large" src=src alt="Avatar preview"/> })}
            <p class="field-error" id="account-avatar-error" role="alert">{move || error.get()}</p>
        </div>
    }
}

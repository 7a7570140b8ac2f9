//! A post's images: a file picker ("Add images") and drag-and-drop onto the composer; each
//! upload shows a progress bar, then its thumbnail with Move earlier / Move later / Remove. The
//! server checks every file by its content; its refusal is shown next to the file's name.

use super::Draft;
use leptos::prelude::*;

/// A file on its way to the server.
#[derive(Debug, Clone, PartialEq)]
struct Upload {
    key: u32,
    name: String,
    progress: u32,
    error: Option<String>,
}

#[component]
pub fn ImagesField(draft: Draft, account: String, error: Signal<Option<String>>) -> impl IntoView {
    let images = draft.images;
    let uploads = RwSignal::new(Vec::<Upload>::new());
    let next_key = StoredValue::new(0u32);
    let dragging = RwSignal::new(false);
    let account = StoredValue::new(account);

    #[cfg(feature = "hydrate")]
    let start = move |files: Vec<leptos::web_sys::File>| {
        for file in files {
            let key = next_key.get_value();
            next_key.set_value(key + 1);
            uploads.update(|u| u.push(Upload { key, name: file.name(), progress: 0, error: None }));
            super::browser::upload(
                file,
                "post",
                Some(&account.get_value()),
                move |p| uploads.update(|u| u.iter_mut().filter(|x| x.key == key).for_each(|x| x.progress = p)),
                move |result| match result {
                    Ok(image) => {
                        uploads.update(|u| u.retain(|x| x.key != key));
                        images.update(|i| i.push(image));
                    }
                    Err(why) => uploads.update(|u| u.iter_mut().filter(|x| x.key == key).for_each(|x| x.error = Some(why.clone()))),
                },
            );
        }
    };
    #[cfg(not(feature = "hydrate"))]
    let _ = (next_key, account);

    let on_pick = move |_ev: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use leptos::wasm_bindgen::JsCast;
            if let Some(input) = _ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlInputElement>().ok()) {
                start(super::browser::files(input.files()));
                input.set_value("");
            }
        }
    };
    let on_drop = move |ev: leptos::ev::DragEvent| {
        ev.prevent_default();
        dragging.set(false);
        #[cfg(feature = "hydrate")]
        start(super::browser::files(ev.data_transfer().and_then(|d| d.files())));
    };
    let move_image = move |from: usize, to: usize| {
        images.update(|list| {
            if from < list.len() && to < list.len() {
                list.swap(from, to);
            }
        })
    };

    view! {
        <div class="field images-field" class:hidden-part=move || !draft.kind.get().has_images()
            class:dragging=move || dragging.get()
            on:dragover=move |ev: leptos::ev::DragEvent| { ev.prevent_default(); dragging.set(true); }
            on:dragleave=move |_| dragging.set(false)
            on:drop=on_drop>
            <span class="label">"Images"</span>
            <div class="drop-zone">
                <label for="post-images" class="button">"Add images"</label>
                <input id="post-images" class="visually-hidden" type="file" multiple
                    accept="image/*" on:change=on_pick/>
                <span class="field-note">"or drop JPEG, PNG, GIF or WebP files here"</span>
            </div>
            <ul class="uploads">
                {move || uploads.get().into_iter().map(|u| {
                    let key = u.key;
                    match u.error {
                        None => view! {
                            <li>
                                <span>{u.name.clone()}</span>
                                <progress aria-label=format!("Uploading {}", u.name) max="100" value=u.progress.to_string()
                                    aria-valuenow=u.progress.to_string()>{format!("{}%", u.progress)}</progress>
                            </li>
                        }.into_any(),
                        Some(why) => view! {
                            <li class="upload-error">
                                <p role="alert">{format!("{}: {why}", u.name)}</p>
                                <button type="button" on:click=move |_| uploads.update(|l| l.retain(|x| x.key != key))>"Dismiss"</button>
                            </li>
                        }.into_any(),
                    }
                }).collect_view()}
            </ul>
            <ol class="thumbnails">
                {move || {
                    let list = images.get();
                    let n = list.len();
                    list.into_iter().enumerate().map(|(i, image)| {
                        let number = i + 1;
                        view! {
                            <li>
                                <img src=image.thumbnail.url.clone() alt=format!("Image {number}")
                                    width=image.thumbnail.width.to_string() height=image.thumbnail.height.to_string()/>
                                <div class="thumb-actions">
                                    <button type="button" aria-label=format!("Move image {number} earlier") disabled=i == 0
                                        on:click=move |_| move_image(i, i.saturating_sub(1))>"↑"</button>
                                    <button type="button" aria-label=format!("Move image {number} later") disabled=i + 1 == n
                                        on:click=move |_| move_image(i, i + 1)>"↓"</button>
                                    <button type="button" class="danger" aria-label=format!("Remove image {number}")
                                        on:click=move |_| images.update(|l| { if i < l.len() { l.remove(i); } })>"Remove"</button>
                                </div>
                            </li>
                        }
                    }).collect_view()
                }}
            </ol>
            <p class="field-note kept">
                {move || (!draft.kind.get().has_images() && !images.with(Vec::is_empty)).then(|| {
                    format!("A {} post is published without its {} image(s); they stay in the draft.", draft.kind.get().label(), images.with(Vec::len))
                })}
            </p>
            <p class="field-error" id="post-images-error">{move || error.get()}</p>
        </div>
    }
}

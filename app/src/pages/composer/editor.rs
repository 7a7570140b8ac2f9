//! The body editor: a Markdown textarea with **Bold**, **Italic** and **Add link** (a small
//! dialog that accepts only http, https and mailto links and inserts `[text](url)` at the caret).

use super::Draft;
use crate::pages::dialog::ModalDialog;
use leptos::prelude::*;
use messaging::post::render::is_allowed_link;

const BODY_ID: &str = "post-body";

/// `text` with `[start, end)` replaced by `insert`; the new selection is `select` within `insert`.
fn splice(text: &str, start: usize, end: usize, insert: &str) -> String {
    let (start, end) = (start.min(text.len()), end.min(text.len()).max(start.min(text.len())));
    format!("{}{insert}{}", &text[..start], &text[end..])
}

/// `[text](url)`, with the brackets of the text and the characters that end a destination escaped.
pub fn markdown_link(text: &str, url: &str) -> String {
    let text = text.replace('\\', "\\\\").replace('[', "\\[").replace(']', "\\]");
    let url: String = url
        .trim()
        .chars()
        .map(|c| match c {
            ' ' => "%20".to_owned(),
            '(' => "%28".to_owned(),
            ')' => "%29".to_owned(),
            '<' => "%3C".to_owned(),
            '>' => "%3E".to_owned(),
            c => c.to_string(),
        })
        .collect();
    format!("[{text}]({url})")
}

/// The current selection of the body, as byte offsets (the whole end when not hydrated).
fn selection(text: &str) -> (usize, usize) {
    #[cfg(feature = "hydrate")]
    return super::browser::selection(text);
    #[cfg(not(feature = "hydrate"))]
    (text.len(), text.len())
}

fn select(text: String, start: usize, end: usize) {
    #[cfg(feature = "hydrate")]
    super::browser::select(text, start, end);
    #[cfg(not(feature = "hydrate"))]
    let _ = (text, start, end);
}

#[component]
pub fn BodyEditor(draft: Draft, error: Signal<Option<String>>) -> impl IntoView {
    let body = draft.body;
    // Wraps the selection (or a placeholder word) in `marker`, keeping it selected.
    let wrap = move |marker: &'static str, placeholder: &'static str| {
        let text = body.get_untracked();
        let (start, end) = selection(&text);
        let inner = if start == end { placeholder.to_owned() } else { text[start..end].to_owned() };
        let new = splice(&text, start, end, &format!("{marker}{inner}{marker}"));
        body.set(new.clone());
        select(new, start + marker.len(), start + marker.len() + inner.len());
    };

    let link_open = RwSignal::new(false);
    let link_text = RwSignal::new(String::new());
    let link_url = RwSignal::new(String::new());
    let link_error = RwSignal::new(None::<String>);
    let link_range = RwSignal::new((0usize, 0usize));
    let open_link = move |_| {
        let text = body.get_untracked();
        let (start, end) = selection(&text);
        link_range.set((start, end));
        link_text.set(text[start..end].to_owned());
        link_url.set(String::new());
        link_error.set(None);
        link_open.set(true);
    };
    let close_link = Callback::new(move |_: ()| link_open.set(false));
    let insert_link = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let url = link_url.get_untracked();
        if !is_allowed_link(&url) {
            link_error.set(Some("Use a link that starts with http://, https:// or mailto:.".into()));
            return;
        }
        let label = match link_text.get_untracked().trim() {
            "" => url.trim().to_owned(),
            t => t.to_owned(),
        };
        let link = markdown_link(&label, &url);
        let (start, end) = link_range.get_untracked();
        let new = splice(&body.get_untracked(), start, end, &link);
        body.set(new.clone());
        link_open.set(false);
        let caret = start + link.len();
        select(new, caret, caret);
    };

    view! {
        <div class="field body-field" class:hidden-part=move || !draft.kind.get().has_body()>
            <div class="toolbar" role="toolbar" aria-label="Formatting" aria-controls=BODY_ID>
                <button type="button" on:click=move |_| wrap("**", "bold text")><strong>"Bold"</strong></button>
                <button type="button" on:click=move |_| wrap("*", "italic text")><em>"Italic"</em></button>
                <button type="button" on:click=open_link>"Add link"</button>
            </div>
            <label for=BODY_ID>"Body"</label>
            <textarea id=BODY_ID rows="12" aria-describedby="post-body-note post-body-error"
                aria-invalid=move || error.get().is_some().to_string()
                prop:value=move || body.get() on:input=move |ev| body.set(event_target_value(&ev))></textarea>
            <p class="field-note" id="post-body-note">
                {move || match draft.kind.get() {
                    k if k.has_body() => "Markdown: **bold**, *italic*, [link](https://…), lists with - or 1.",
                    messaging::post::PostKind::Poll => "A poll is published without the body; what you wrote stays in the draft.",
                    _ => "An Image post is published without its body; what you wrote stays in the draft.",
                }}
            </p>
            <p class="field-error" id="post-body-error">{move || error.get()}</p>
        </div>
        <Show when=move || link_open.get()>
            <ModalDialog labelled_by="link-title" on_close=close_link first_field="link-text">
                <h2 id="link-title">"Add link"</h2>
                <form on:submit=insert_link novalidate>
                    <div class="field">
                        <label for="link-text">"Link text"</label>
                        <input id="link-text" type="text" prop:value=move || link_text.get()
                            on:input=move |ev| link_text.set(event_target_value(&ev))/>
                    </div>
                    <div class="field">
                        <label for="link-url">"URL"</label>
                        <input id="link-url" type="url" placeholder="https://…" aria-describedby="link-url-error"
                            aria-invalid=move || link_error.get().is_some().to_string()
                            prop:value=move || link_url.get() on:input=move |ev| link_url.set(event_target_value(&ev))/>
                        <p class="field-error" id="link-url-error">{move || link_error.get()}</p>
                    </div>
                    <div class="buttons">
                        <button type="button" on:click=move |_| link_open.set(false)>"Cancel"</button>
                        <button type="submit" class="primary">"Insert link"</button>
                    </div>
                </form>
            </ModalDialog>
        </Show>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_written_so_that_markdown_reads_them_back() {
        assert_eq!(markdown_link("Herald [docs]", "https://h.example/a b(c)"), "[Herald \\[docs\\]](https://h.example/a%20b%28c%29)");
        let html = messaging::post::render_body(&markdown_link("x]y", "https://h.example/(x)"));
        assert!(html.contains("href=\"https://h.example/%28x%29\""), "{html}");
        assert!(html.contains(">x]y</a>"), "{html}");
    }

    #[test]
    fn splicing_replaces_the_selection() {
        assert_eq!(splice("hello world", 6, 11, "**world**"), "hello **world**");
        assert_eq!(splice("ab", 5, 9, "!"), "ab!");
    }
}

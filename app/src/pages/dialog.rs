//! The one modal dialog of the console: a native `<dialog>` opened with `showModal()`, so focus
//! moves into it, stays inside while it is open (the page behind is inert) and Escape closes it.
//! Focus returns to the element that had it (the button that opened the dialog) on close.

use leptos::prelude::*;

#[component]
pub fn ModalDialog(
    /// The id of the dialog's heading (its accessible name).
    labelled_by: &'static str,
    on_close: Callback<()>,
    /// The element to focus first (by id); the dialog's first focusable one when None.
    #[prop(optional)]
    first_field: Option<&'static str>,
    children: Children,
) -> impl IntoView {
    let dialog = NodeRef::<leptos::html::Dialog>::new();
    #[cfg(feature = "hydrate")]
    {
        use leptos::wasm_bindgen::JsCast;
        let opener =
            send_wrapper::SendWrapper::new(document().active_element().and_then(|e| e.dyn_into::<leptos::web_sys::HtmlElement>().ok()));
        Effect::new(move |_| {
            if let Some(d) = dialog.get() {
                if !d.open() {
                    let _ = d.show_modal();
                }
                if let Some(el) = first_field.and_then(|id| document().get_element_by_id(id)) {
                    if let Ok(el) = el.dyn_into::<leptos::web_sys::HtmlElement>() {
                        let _ = el.focus();
                    }
                }
            }
        });
        on_cleanup(move || {
            if let Some(el) = opener.take() {
                // After the dialog has left the page (the page behind a modal is inert until
                // then); the opener may have been re-rendered: focus it only if it is still there.
                request_animation_frame(move || {
                    if el.is_connected() {
                        let _ = el.focus();
                    }
                });
            }
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = first_field;
    view! {
        <dialog node_ref=dialog class="dialog" aria-labelledby=labelled_by
            on:cancel=move |ev: leptos::ev::Event| {
                // Escape: we close it ourselves, so the page's state says it is closed.
                ev.prevent_default();
                on_close.run(());
            }>
            {children()}
        </dialog>
    }
}

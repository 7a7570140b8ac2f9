//! The composer's Poll fields: the question, 2–12 options that can be added, removed and moved,
//! single or multiple choice, and an optional closing time in the viewer's time zone. The
//! poll's rules are `messaging::polls` (checked here by the same function as on the server).

use super::Draft;
use leptos::prelude::*;
use messaging::polls::{OPTIONS_MAX, OPTIONS_MIN, OPTION_MAX_BYTES, QUESTION_MAX_BYTES};

/// The poll being written, as the form holds it.
#[derive(Clone, Copy)]
pub(crate) struct PollDraft {
    pub question: RwSignal<String>,
    pub options: RwSignal<Vec<String>>,
    pub multiple: RwSignal<bool>,
    /// `datetime-local` in the viewer's time zone; empty: no closing time.
    pub closes: RwSignal<String>,
}

impl PollDraft {
    pub fn new(poll: Option<&messaging::polls::Poll>) -> Self {
        let (question, options, multiple, closes_at) = match poll {
            Some(p) => (p.question.clone(), p.options.iter().map(|o| o.text.clone()).collect(), p.multiple, p.closes_at),
            None => (String::new(), vec![String::new(), String::new()], false, 0),
        };
        #[cfg(feature = "hydrate")]
        let closes = if closes_at > 0 { super::browser::unix_to_local(closes_at) } else { String::new() };
        #[cfg(not(feature = "hydrate"))]
        let closes = if closes_at > 0 { closes_at.to_string() } else { String::new() };
        Self {
            question: RwSignal::new(question),
            options: RwSignal::new(options),
            multiple: RwSignal::new(multiple),
            closes: RwSignal::new(closes),
        }
    }

    /// The poll as it would be sent (options named `a`, `b`, … in their order).
    pub fn poll(&self) -> messaging::polls::Poll {
        let closes = self.closes.get();
        #[cfg(feature = "hydrate")]
        let closes_at = super::browser::local_to_unix(&closes).unwrap_or(0);
        #[cfg(not(feature = "hydrate"))]
        let closes_at = closes.parse().unwrap_or(0);
        messaging::polls::Poll::from_texts(&self.question.get(), &self.options.get(), self.multiple.get(), closes_at)
    }

    pub fn try_poll_untracked(&self) -> Option<messaging::polls::Poll> {
        self.question.try_get_untracked()?;
        Some(untrack(|| self.poll()))
    }
}

#[component]
pub(crate) fn PollFields(draft: Draft, error: Signal<Option<String>>, time_zone: RwSignal<String>) -> impl IntoView {
    let poll = draft.poll;
    let shown = move || draft.kind.get() == messaging::post::PostKind::Poll;
    let count = move || poll.options.with(Vec::len);
    let set_option = move |i: usize, text: String| poll.options.update(|o| o[i] = text);
    let remove = move |i: usize| poll.options.update(|o| _ = o.remove(i));
    let swap = move |i: usize, j: usize| poll.options.update(|o| o.swap(i, j));
    view! {
        <fieldset class="poll-fields" class:hidden-part=move || !shown()>
            <legend>"Poll"</legend>
            <div class="field">
                <label for="poll-question">"Question"</label>
                <input id="poll-question" type="text" maxlength=QUESTION_MAX_BYTES.to_string() aria-describedby="poll-error"
                    prop:value=move || poll.question.get() on:input=move |ev| poll.question.set(event_target_value(&ev))/>
            </div>
            <ol class="poll-option-list">
                {move || (0..count()).map(|i| {
                    let label = format!("Option {}", i + 1);
                    let id = format!("poll-option-{}", i + 1);
                    view! {
                        <li class="poll-option-row">
                            <label for=id.clone() class="visually-hidden">{label.clone()}</label>
                            <input id=id type="text" maxlength=OPTION_MAX_BYTES.to_string() placeholder=label.clone()
                                prop:value=move || poll.options.with(|o| o.get(i).cloned().unwrap_or_default())
                                on:input=move |ev| set_option(i, event_target_value(&ev))/>
                            <button type="button" class="icon" aria-label=format!("Move {label} up") disabled={ i == 0 }
                                on:click=move |_| swap(i, i - 1)>"↑"</button>
                            <button type="button" class="icon" aria-label=format!("Move {label} down") disabled=move || { i + 1 >= count() }
                                on:click=move |_| swap(i, i + 1)>"↓"</button>
                            <button type="button" class="icon" aria-label=format!("Remove {label}") disabled=move || { count() <= OPTIONS_MIN }
                                on:click=move |_| remove(i)>"✕"</button>
                        </li>
                    }
                }).collect_view()}
            </ol>
            <button type="button" on:click=move |_| poll.options.update(|o| o.push(String::new()))
                disabled=move || { count() >= OPTIONS_MAX }>"Add option"</button>
            <span class="field-note">{move || format!("{} of {OPTIONS_MAX} options", count())}</span>
            <label class="choice">
                <input type="checkbox" prop:checked=move || poll.multiple.get() on:change=move |ev| poll.multiple.set(event_target_checked(&ev))/>
                "Allow several choices"
            </label>
            <div class="field">
                <label for="poll-closes">"Closes at (optional)"</label>
                <input id="poll-closes" type="datetime-local" aria-describedby="poll-closes-zone"
                    prop:value=move || poll.closes.get() on:input=move |ev| poll.closes.set(event_target_value(&ev))/>
                <span class="field-note" id="poll-closes-zone">"Time zone: " {move || time_zone.get()}</span>
            </div>
            <p class="field-error" id="poll-error" role="alert">{move || error.get()}</p>
        </fieldset>
    }
}

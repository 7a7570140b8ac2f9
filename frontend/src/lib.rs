//! The console's entry point in the browser: the WebAssembly module's one export, which
//! hydrates the page the server rendered (`app::hydrate`).
//!
//! Its own crate so that the wasm is a cdylib only, which lets Cargo link it with LTO. Never
//! build it together with `server` (`--workspace`): the two would unify `app`'s `hydrate` and
//! `ssr` features. `scripts/build.sh` builds it on its own.

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    app::hydrate();
}

//! The browser entry point: hydrates the server-rendered page. Everything else lives in `app`.

use leptos::prelude::*;

#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    // Debug builds explain a panic in the console; release builds abort at once, without the
    // messages (see build.sh).
    #[cfg(debug_assertions)]
    console_error_panic_hook::set_once();
    // Lazy routes (see `app::App`) first fetch the wasm chunk of the page on screen, so hydration
    // is asynchronous; this is `leptos::mount::hydrate_lazy` plus a mark when it is done.
    let _ = any_spawner::Executor::init_wasm_bindgen();
    leptos::task::spawn_local(async {
        let owner =
            leptos::mount::hydrate_from_async(document().body().expect("a body"), app::App).await;
        owner.forget();
        app::mark_hydrated();
    });
}

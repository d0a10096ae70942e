//! The frame of the Settings screens: their navigation, and the page itself. Each screen belongs to
//! the feature it sets up (`fields`, `tags`, `team`) and comes in a wasm chunk of its own.

use leptos::prelude::*;
use leptos_router::components::A;

use crate::i18n::use_locale;

#[component]
pub fn SettingsFrame(children: Children) -> impl IntoView {
    let l = use_locale();
    view! {
        <div class="settings">
            <nav class="settings-nav" aria-label=l.t("Settings", "Impostazioni")>
                <A href="/settings/fields">{l.t("Fields and folders", "Campi e cartelle")}</A>
                <A href="/settings/tags">{l.t("Tags", "Tag")}</A>
                <A href="/settings/team">{l.t("Team", "Team")}</A>
            </nav>
            <div class="settings-body">{children()}</div>
        </div>
    }
}

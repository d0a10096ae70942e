//! The Settings screens' frame: their navigation and the page itself. Each screen belongs to the
//! feature it sets up (`fields`, `tags`, `team`, `snippets`); together they are one lazily loaded route, so a
//! browser fetches their code once, the first time Settings opens.

use leptos::prelude::*;
use leptos_router::{components::A, hooks::use_params_map};

use crate::{
    fields::FieldsSettingsPage, i18n::use_locale, snippets::SnippetsSettingsPage,
    tags::TagsSettingsPage, team::TeamSettingsPage,
};

lazy_page!(
    /// `/settings/:section`, in a wasm chunk of its own.
    SettingsRoute => SettingsPage, with screens_css
);

#[component]
fn SettingsPage() -> impl IntoView {
    let params = use_params_map();
    let section = move || params.read().get("section").unwrap_or_default();
    move || match section().as_str() {
        "tags" => view! { <TagsSettingsPage/> }.into_any(),
        "team" => view! { <TeamSettingsPage/> }.into_any(),
        "snippets" => view! { <SnippetsSettingsPage/> }.into_any(),
        _ => view! { <FieldsSettingsPage/> }.into_any(),
    }
}

#[component]
pub fn SettingsFrame(children: Children) -> impl IntoView {
    let l = use_locale();
    view! {
        <div class="settings">
            <nav class="settings-nav" aria-label=l.t("Settings", "Impostazioni")>
                <A href="/settings/fields">{l.t("Fields and folders", "Campi e cartelle")}</A>
                <A href="/settings/tags">{l.t("Tags", "Tag")}</A>
                <A href="/settings/team">{l.t("Team", "Team")}</A>
                <A href="/settings/snippets">{l.t("Snippets", "Modelli")}</A>
            </nav>
            <div class="settings-body">{children()}</div>
        </div>
    }
}

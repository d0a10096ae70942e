//! Sign-in, first-run setup and sign-out screens.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_query_map};

use super::{Login, Logout, SetLocale, Setup};
use crate::{
    i18n::{use_locale, Locale},
    ui::{action_error, FormAlert, TextField},
};

lazy_page!(
    /// Sign-in as a lazily loaded route: a signed-in user never downloads it.
    LoginRoute => LoginPage
);
lazy_page!(
    /// First-run setup as a lazily loaded route.
    SetupRoute => SetupPage
);

#[component]
pub fn LoginPage() -> impl IntoView {
    let login = ServerAction::<Login>::new();
    let error = action_error(login);
    let query = use_query_map();
    let next = move || query.read().get("next").unwrap_or_default();
    let l = use_locale();
    view! {
        <Title text=l.t("Sign in · Rubrica", "Accedi · Rubrica")/>
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand" aria-hidden="true">"Rubrica"</p>
                <h1>{l.t("Sign in", "Accedi")}</h1>
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next/>
                    <TextField label="Email" name="email" id="login-email" input_type="email"
                        autocomplete="username" required=true autofocus=true error/>
                    <TextField label=l.t("Password", "Password") name="password" id="login-password"
                        input_type="password" autocomplete="current-password" required=true error/>
                    <FormAlert error/>
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        {l.t("Sign in", "Accedi")}
                    </button>
                </ActionForm>
                <p class="hint after">
                    <a href="/password-reset">{l.t("Forgot your password?", "Password dimenticata?")}</a>
                </p>
            </div>
        </main>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let error = action_error(setup);
    let l = use_locale();
    view! {
        <Title text=l.t("Set up Rubrica", "Configura Rubrica")/>
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand" aria-hidden="true">"Rubrica"</p>
                <h1>{l.t("Welcome to Rubrica", "Benvenuto in Rubrica")}</h1>
                <p class="hint">
                    {l.t(
                        "Create the first administrator of this workspace.",
                        "Crea il primo amministratore di questo spazio di lavoro.",
                    )}
                </p>
                <ActionForm action=setup>
                    <TextField label=l.t("Name", "Nome") name="name" id="setup-name" autocomplete="name"
                        required=true autofocus=true error/>
                    <TextField label="Email" name="email" id="setup-email" input_type="email"
                        autocomplete="username" required=true error/>
                    <TextField label=l.t("Password", "Password") name="password" id="setup-password"
                        input_type="password" autocomplete="new-password" required=true error/>
                    <p class="hint">{l.t("At least 10 characters.", "Almeno 10 caratteri.")}</p>
                    <FormAlert error/>
                    <button type="submit" class="primary" disabled=move || setup.pending().get()>
                        {l.t("Create admin", "Crea amministratore")}
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

/// A plain form: signing out loads the sign-in page afresh, which also drops everything the
/// browser held of the signed-in workspace.
#[component]
pub fn SignOutButton() -> impl IntoView {
    let l = use_locale();
    view! {
        <form method="post" action={<Logout as ServerFn>::PATH} class="sign-out">
            <button type="submit">{l.t("Sign out", "Esci")}</button>
        </form>
    }
}

/// Switches to the other language: a plain form, like sign-out, because the whole page is then
/// loaded again in the new language; the choice is saved for the user on every device. The
/// button reads in the language it switches to (`lang` tells screen readers how to say it).
#[component]
pub fn LanguageSwitch() -> impl IntoView {
    let other = match use_locale() {
        Locale::It => Locale::En,
        Locale::En => Locale::It,
    };
    let location = use_location();
    // The router's `search` comes without its `?`.
    let here = move || {
        let search = location.search.get();
        let path = location.pathname.get();
        if search.is_empty() {
            path
        } else {
            format!("{path}?{search}")
        }
    };
    view! {
        <form method="post" action={<SetLocale as ServerFn>::PATH} class="language">
            <input type="hidden" name="next" value=here/>
            <button type="submit" name="locale" value=other.tag() lang=other.tag()>
                {other.name()}
            </button>
        </form>
    }
}

//! Sign-in, first-run setup and sign-out screens.

use leptos::{prelude::*, server_fn::ServerFn};
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

use super::{Login, Logout, Setup};
use crate::ui::{action_error, FormAlert, TextField};

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
    view! {
        <Title text="Sign in · Rubrica"/>
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand" aria-hidden="true">"Rubrica"</p>
                <h1>"Sign in"</h1>
                <ActionForm action=login>
                    <input type="hidden" name="next" value=next/>
                    <TextField label="Email" name="email" id="login-email" input_type="email"
                        autocomplete="username" required=true autofocus=true error/>
                    <TextField label="Password" name="password" id="login-password"
                        input_type="password" autocomplete="current-password" required=true error/>
                    <FormAlert error/>
                    <button type="submit" class="primary" disabled=move || login.pending().get()>
                        "Sign in"
                    </button>
                </ActionForm>
            </div>
        </main>
    }
}

#[component]
pub fn SetupPage() -> impl IntoView {
    let setup = ServerAction::<Setup>::new();
    let error = action_error(setup);
    view! {
        <Title text="Set up Rubrica"/>
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand" aria-hidden="true">"Rubrica"</p>
                <h1>"Welcome to Rubrica"</h1>
                <p class="hint">"Create the first administrator of this workspace."</p>
                <ActionForm action=setup>
                    <TextField label="Name" name="name" id="setup-name" autocomplete="name"
                        required=true autofocus=true error/>
                    <TextField label="Email" name="email" id="setup-email" input_type="email"
                        autocomplete="username" required=true error/>
                    <TextField label="Password" name="password" id="setup-password"
                        input_type="password" autocomplete="new-password" required=true error/>
                    <p class="hint">"At least 10 characters."</p>
                    <FormAlert error/>
                    <button type="submit" class="primary" disabled=move || setup.pending().get()>
                        "Create admin"
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
    view! {
        <form method="post" action={<Logout as ServerFn>::PATH} class="sign-out">
            <button type="submit">"Sign out"</button>
        </form>
    }
}

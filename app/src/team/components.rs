//! Settings → Team (invite, roles, disable, password links), and the pages behind a password link:
//! asking for one, and choosing a password from one.

use leptos::{either::Either, prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;
use uuid::Uuid;

use super::{
    invite_member, password_link, send_password_link, set_member_disabled, set_member_role,
    team_members, LinkPurpose, LinkSent, Member, MemberStatus, RequestPasswordReset, SetPassword,
};
use crate::{
    error::AppError,
    i18n::{use_locale, Locale},
    resource::json_resource,
    settings::SettingsFrame,
    ui::{action_error, FormAlert, TextField},
};

lazy_page!(
    /// `/password-reset` ("forgot your password?") and `/password-reset/:token` (choosing a
    /// password from a link): one wasm chunk for both.
    PasswordRoute => PasswordPages
);

#[component]
fn PasswordPages() -> impl IntoView {
    let params = use_params_map();
    let has_token = move || params.read().get("token").is_some_and(|t| !t.is_empty());
    move || {
        if has_token() {
            view! { <PasswordPage/> }.into_any()
        } else {
            view! { <ResetRequestPage/> }.into_any()
        }
    }
}

/// A link that was not emailed, to copy and hand over.
#[component]
fn LinkNotice(sent: LinkSent, name: String) -> impl IntoView {
    let l = use_locale();
    match sent.link {
        None => Either::Left(view! {
            <p class="notice" role="status">{match l {
                Locale::En => format!("Email sent to {name}."),
                Locale::It => format!("Email inviata a {name}."),
            }}</p>
        }),
        Some(link) => Either::Right(view! {
            <div class="notice" role="status">
                <p>{match (l, sent.send_failed) {
                    (Locale::En, false) => format!("Email is not set up, so nothing was sent. Give {name} this link (it works once):"),
                    (Locale::It, false) => format!("L'email non è configurata, quindi non è stato inviato nulla. Dai a {name} questo link (funziona una volta sola):"),
                    (Locale::En, true) => format!("The email to {name} could not be sent. Give them this link instead (it works once):"),
                    (Locale::It, true) => format!("Non è stato possibile inviare l'email a {name}. Dagli invece questo link (funziona una volta sola):"),
                }}</p>
                <input type="text" readonly value=link.clone() aria-label=l.t("Password link", "Link per la password")
                    on:focus=move |ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(input) = ev.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) {
                            input.select();
                        }
                    }/>
            </div>
        }),
    }
}

/// Settings → Team.
#[component]
pub fn TeamSettingsPage() -> impl IntoView {
    let l = use_locale();
    let loaded = json_resource(|| (), |_| team_members());
    let me = json_resource(|| (), |_| crate::auth::me());
    let members = RwSignal::new(None::<Vec<Member>>);
    let name = RwSignal::new(String::new());
    let email = RwSignal::new(String::new());
    let role = RwSignal::new("member".to_string());
    let error = RwSignal::new(None::<AppError>);
    let sent = RwSignal::new(None::<(LinkSent, String)>);
    let invite = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, e, r) = (
            name.get_untracked(),
            email.get_untracked(),
            role.get_untracked(),
        );
        spawn_local(async move {
            match invite_member(n.clone(), e, r).await {
                Ok(result) => {
                    error.set(None);
                    sent.set(Some((result, n)));
                    name.set(String::new());
                    email.set(String::new());
                    if let Ok(list) = team_members().await {
                        members.set(Some(list));
                    }
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let problem = move |field: &'static str| {
        move || {
            error.with(|e| {
                e.as_ref()
                    .and_then(|e| e.field_problem(field))
                    .map(|p| p.text(l))
            })
        }
    };
    let general = move || {
        error.with(|e| match e {
            Some(AppError::Invalid(_)) | None => None,
            Some(e) => Some(e.message(l)),
        })
    };
    view! {
        <Title text=l.t("Team · Settings · Rubrica", "Team · Impostazioni · Rubrica")/>
        <SettingsFrame>
            <h1>{l.t("Team", "Team")}</h1>
            <form class="settings-card" on:submit=invite>
                <h2>{l.t("Invite someone", "Invita qualcuno")}</h2>
                <div class="field">
                    <label for="invite-name">{l.t("Name", "Nome")}</label>
                    <input id="invite-name" type="text" autocomplete="off" prop:value=move || name.get()
                        on:input=move |ev| name.set(event_target_value(&ev))
                        aria-invalid=move || problem("name")().map(|_| "true")
                        aria-describedby="invite-name-error"/>
                    <p class="field-error" id="invite-name-error">{problem("name")}</p>
                </div>
                <div class="field">
                    <label for="invite-email">"Email"</label>
                    <input id="invite-email" type="email" autocomplete="off" prop:value=move || email.get()
                        on:input=move |ev| email.set(event_target_value(&ev))
                        aria-invalid=move || problem("email")().map(|_| "true")
                        aria-describedby="invite-email-error"/>
                    <p class="field-error" id="invite-email-error">{problem("email")}</p>
                </div>
                <div class="field">
                    <label for="invite-role">{l.t("Role", "Ruolo")}</label>
                    <select id="invite-role" on:change=move |ev| role.set(event_target_value(&ev))>
                        <option value="member" selected=true>{l.t("Member", "Membro")}</option>
                        <option value="admin">{l.t("Admin", "Amministratore")}</option>
                    </select>
                </div>
                {move || general().map(|m| view! { <p class="alert" role="alert">{m}</p> })}
                <button type="submit" class="primary">{l.t("Send invitation", "Invia invito")}</button>
                {move || sent.get().map(|(sent, name)| view! { <LinkNotice sent name/> })}
            </form>
            <Transition fallback=move || view! { <p class="loading">{l.t("Loading…", "Caricamento…")}</p> }>
                {move || Suspend::new(async move {
                    match (loaded.await, me.await) {
                        (Ok(list), Ok(me)) => {
                            if members.get_untracked().is_none() {
                                members.set(Some(list));
                            }
                            Either::Left(view! { <MemberList members me=me.id/> })
                        }
                        (Err(e), _) | (_, Err(e)) => Either::Right(view! { <p class="alert" role="alert">{e.message(l)}</p> }),
                    }
                })}
            </Transition>
        </SettingsFrame>
    }
}

#[component]
fn MemberList(members: RwSignal<Option<Vec<Member>>>, me: Uuid) -> impl IntoView {
    let ids = move || members.with(|m| m.iter().flatten().map(|m| m.id).collect::<Vec<_>>());
    view! {
        <ul class="settings-list members">
            <For each=ids key=|id| *id let:id>
                <MemberRow members id me/>
            </For>
        </ul>
    }
}

#[component]
fn MemberRow(members: RwSignal<Option<Vec<Member>>>, id: Uuid, me: Uuid) -> impl IntoView {
    let l = use_locale();
    let member = move || members.with(|m| m.iter().flatten().find(|m| m.id == id).cloned());
    // An admin neither demotes nor disables themselves (the server refuses it too).
    let yourself = id == me;
    let invited = move || member().is_some_and(|m| m.status == MemberStatus::Invited);
    let disabled = move || member().is_some_and(|m| m.status == MemberStatus::Disabled);
    let error = RwSignal::new(None::<AppError>);
    let sent = RwSignal::new(None::<LinkSent>);
    let name = move || member().map(|m| m.name).unwrap_or_default();
    let status = move || match member().map(|m| m.status) {
        Some(MemberStatus::Active) => l.t("Active", "Attivo"),
        Some(MemberStatus::Invited) => l.t("Invited", "Invitato"),
        Some(MemberStatus::Disabled) => l.t("Disabled", "Disattivato"),
        None => "",
    };
    let update = move |list: Vec<Member>| {
        error.set(None);
        members.set(Some(list));
    };
    let on_role = move |ev: leptos::ev::Event| {
        let admin = event_target_value(&ev) == "admin";
        spawn_local(async move {
            match set_member_role(id, admin).await {
                Ok(list) => update(list),
                Err(e) => {
                    error.set(Some(e));
                    // Back to what the server holds.
                    if let Ok(list) = team_members().await {
                        members.set(Some(list));
                    }
                }
            }
        });
    };
    let toggle = move |_| {
        let disable = member().is_some_and(|m| m.status != MemberStatus::Disabled);
        spawn_local(async move {
            match set_member_disabled(id, disable).await {
                Ok(list) => update(list),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let send = move |_| {
        spawn_local(async move {
            match send_password_link(id).await {
                Ok(result) => {
                    error.set(None);
                    sent.set(Some(result));
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let role_id = format!("member-role-{}", id.simple());
    view! {
        <li class="settings-row member" aria-label=name>
            <div class="member-who">
                <strong>{name}</strong>
                <span class="muted">{move || member().map(|m| m.email).unwrap_or_default()}</span>
                <span class="badge">{status}</span>
            </div>
            <div class="row-actions">
                <label for=role_id.clone() class="visually-hidden">
                    {move || match l {
                        Locale::En => format!("Role of {}", name()),
                        Locale::It => format!("Ruolo di {}", name()),
                    }}
                </label>
                <select id=role_id on:change=on_role disabled=yourself
                    prop:value=move || if member().is_some_and(|m| m.is_admin) { "admin" } else { "member" }>
                    <option value="member" selected=move || member().is_some_and(|m| !m.is_admin)>{l.t("Member", "Membro")}</option>
                    <option value="admin" selected=move || member().is_some_and(|m| m.is_admin)>{l.t("Admin", "Amministratore")}</option>
                </select>
                <button type="button" on:click=send
                    hidden=move || member().is_some_and(|m| m.status == MemberStatus::Disabled)
                    aria-label=move || match (invited(), l) {
                        (true, Locale::En) => format!("Resend invitation to {}", name()),
                        (true, Locale::It) => format!("Invia di nuovo l'invito a {}", name()),
                        (false, Locale::En) => format!("Send password reset to {}", name()),
                        (false, Locale::It) => format!("Invia reimpostazione password a {}", name()),
                    }>
                    {move || if invited() {
                        l.t("Resend invitation", "Invia di nuovo l'invito")
                    } else {
                        l.t("Send password reset", "Invia reimpostazione password")
                    }}
                </button>
                <button type="button" class="danger" on:click=toggle hidden=yourself
                    aria-label=move || match (disabled(), l) {
                        (true, Locale::En) => format!("Enable {}", name()),
                        (true, Locale::It) => format!("Riattiva {}", name()),
                        (false, Locale::En) => format!("Disable {}", name()),
                        (false, Locale::It) => format!("Disattiva {}", name()),
                    }>
                    {move || if disabled() { l.t("Enable", "Riattiva") } else { l.t("Disable", "Disattiva") }}
                </button>
            </div>
            <p class="field-error" role="alert">{move || error.get().map(|e| e.message(l))}</p>
            {move || sent.get().map(|sent| view! { <LinkNotice sent name=name()/> })}
        </li>
    }
}

#[component]
fn ResetRequestPage() -> impl IntoView {
    let l = use_locale();
    let request = ServerAction::<RequestPasswordReset>::new();
    let error = action_error(request);
    let done = move || request.value().get().is_some_and(|r| r.is_ok());
    view! {
        <Title text=l.t("Reset your password · Rubrica", "Reimposta la password · Rubrica")/>
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand" aria-hidden="true">"Rubrica"</p>
                <h1>{l.t("Reset your password", "Reimposta la password")}</h1>
                <Show when=done fallback=move || view! {
                    <p class="hint">{l.t(
                        "Enter your email: we send you a link to choose a new password. It works once, for 6 hours.",
                        "Inserisci la tua email: ti inviamo un link per scegliere una nuova password. Funziona una volta sola, per 6 ore.",
                    )}</p>
                    <ActionForm action=request>
                        <TextField label="Email" name="email" id="reset-email" input_type="email"
                            autocomplete="username" required=true autofocus=true error/>
                        <FormAlert error/>
                        <button type="submit" class="primary" disabled=move || request.pending().get()>
                            {l.t("Send link", "Invia link")}
                        </button>
                    </ActionForm>
                }>
                    <p role="status">{l.t(
                        "If that email belongs to an account, a link is on its way. Check your spam folder too.",
                        "Se l'email appartiene a un account, il link è in arrivo. Controlla anche nello spam.",
                    )}</p>
                </Show>
                <p><a href="/login">{l.t("Back to sign in", "Torna all'accesso")}</a></p>
            </div>
        </main>
    }
}

#[component]
fn PasswordPage() -> impl IntoView {
    let l = use_locale();
    let params = use_params_map();
    let token = move || params.read().get("token").unwrap_or_default();
    let holder = json_resource(token, password_link);
    let set = ServerAction::<SetPassword>::new();
    let error = action_error(set);
    view! {
        <Title text=l.t("Choose your password · Rubrica", "Scegli la password · Rubrica")/>
        <main class="auth-page">
            <div class="auth-card">
                <p class="brand" aria-hidden="true">"Rubrica"</p>
                <Transition fallback=move || view! { <p class="loading">{l.t("Loading…", "Caricamento…")}</p> }>
                    {move || Suspend::new(async move {
                        match holder.await {
                            Ok(holder) => Either::Left(view! {
                                <h1>{match holder.purpose {
                                    LinkPurpose::Invite => l.t("Welcome to Rubrica", "Benvenuto in Rubrica"),
                                    LinkPurpose::Reset => l.t("Choose a new password", "Scegli una nuova password"),
                                }}</h1>
                                <p class="hint">{match l {
                                    Locale::En => format!("For {} ({}).", holder.name, holder.email),
                                    Locale::It => format!("Per {} ({}).", holder.name, holder.email),
                                }}</p>
                                <ActionForm action=set>
                                    <input type="hidden" name="token" value=token/>
                                    <TextField label=l.t("New password", "Nuova password") name="password"
                                        id="new-password" input_type="password" autocomplete="new-password"
                                        required=true autofocus=true error/>
                                    <p class="hint">{l.t("At least 10 characters.", "Almeno 10 caratteri.")}</p>
                                    {move || error.get().and_then(|e| e.field_problem("token")).map(|p| view! {
                                        <p class="alert" role="alert">{p.text(l)}</p>
                                    })}
                                    <FormAlert error/>
                                    <button type="submit" class="primary" disabled=move || set.pending().get()>
                                        {l.t("Save password", "Salva password")}
                                    </button>
                                </ActionForm>
                            }),
                            Err(e) => Either::Right(view! {
                                <h1>{l.t("This link no longer works", "Questo link non funziona più")}</h1>
                                <p class="alert" role="alert">{e.message(l)}</p>
                                <p><a href="/password-reset">{l.t("Ask for a new link", "Richiedi un nuovo link")}</a></p>
                            }),
                        }
                    })}
                </Transition>
            </div>
        </main>
    }
}

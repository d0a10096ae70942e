//! Settings → Snippets: the user's own snippets and the team's, made, changed and deleted here
//! (the composer makes them too, from what is being written).

use leptos::{either::Either, prelude::*, task::spawn_local};
use leptos_meta::Title;
use uuid::Uuid;

use super::{delete_snippet, list_snippets, save_snippet, Snippet, SnippetDraft};
use crate::{error::AppError, i18n::use_locale, resource::json_resource, settings::SettingsFrame};

/// Settings → Snippets.
#[component]
pub fn SnippetsSettingsPage() -> impl IntoView {
    let l = use_locale();
    let snippets = json_resource(|| (), |_| list_snippets());
    let changed = Callback::new(move |_| snippets.refetch());
    view! {
        <Title text=l.t("Snippets · Settings · Rubrica", "Modelli · Impostazioni · Rubrica")/>
        <SettingsFrame>
            <h1>{l.t("Snippets", "Modelli")}</h1>
            <p class="note">{l.t(
                "Saved texts for the composer: insert them with Snippets, or type / and their name. Merge fields such as {{contact.first_name}} are filled in when the message goes.",
                "Testi salvati per il compositore: inseriscili con Modelli, o scrivi / e il loro nome. I campi unione come {{contact.first_name}} vengono compilati all'invio.",
            )}</p>
            <section class="settings-card" aria-labelledby="new-snippet-heading">
                <h2 id="new-snippet-heading">{l.t("New snippet", "Nuovo modello")}</h2>
                <SnippetForm snippet=None saved=changed/>
            </section>
            <Transition fallback=move || view! { <p class="loading">{l.t("Loading…", "Caricamento…")}</p> }>
                {move || Suspend::new(async move {
                    match snippets.await {
                        Ok(list) if list.is_empty() => Either::Left(view! {
                            <p class="empty-state">{l.t("No snippets yet.", "Ancora nessun modello.")}</p>
                        }.into_any()),
                        Ok(list) => Either::Left(view! {
                            <ul class="settings-list">
                                {list.into_iter().map(|snippet| {
                                    let name = snippet.name.clone();
                                    let whose = if snippet.team { l.t("Team", "Team") } else { l.t("Yours", "Tuo") };
                                    view! {
                                        <li class="settings-row snippet-row" aria-label=name>
                                            <h2 class="snippet-name">{name.clone()}" "<span class="muted">{format!("· {whose}")}</span></h2>
                                            {if snippet.editable {
                                                Either::Left(view! { <SnippetForm snippet=Some(snippet) saved=changed/> })
                                            } else {
                                                Either::Right(view! {
                                                    <p class="message-body">{snippet.body}</p>
                                                })
                                            }}
                                        </li>
                                    }
                                }).collect_view()}
                            </ul>
                        }.into_any()),
                        Err(e) => Either::Right(view! { <p class="alert" role="alert">{e.message(l)}</p> }),
                    }
                })}
            </Transition>
        </SettingsFrame>
    }
}

/// A snippet's form: a new one (`snippet` empty), or one to change or delete. Settings shows it,
/// and the composer's Snippets panel for the one being edited there.
#[component]
pub fn SnippetForm(snippet: Option<Snippet>, saved: Callback<()>) -> impl IntoView {
    let l = use_locale();
    let id: Option<Uuid> = snippet.as_ref().map(|s| s.id);
    let prefix = id.map_or("new-snippet".to_string(), |id| {
        format!("snippet-{}", id.simple())
    });
    let initial = snippet.map(|s| SnippetDraft {
        name: s.name,
        subject: s.subject.unwrap_or_default(),
        body: s.body,
        team: s.team,
    });
    let name = RwSignal::new(initial.as_ref().map(|d| d.name.clone()).unwrap_or_default());
    let subject = RwSignal::new(
        initial
            .as_ref()
            .map(|d| d.subject.clone())
            .unwrap_or_default(),
    );
    let body = RwSignal::new(initial.as_ref().map(|d| d.body.clone()).unwrap_or_default());
    let team = RwSignal::new(initial.as_ref().is_some_and(|d| d.team));
    let error = RwSignal::new(None::<AppError>);
    let done = RwSignal::new(false);
    let confirming = RwSignal::new(false);
    let draft = move || SnippetDraft {
        name: name.get_untracked(),
        subject: subject.get_untracked(),
        body: body.get_untracked(),
        team: team.get_untracked(),
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let draft = draft();
        if let Err(e) = draft.check() {
            error.set(Some(e));
            return;
        }
        spawn_local(async move {
            match save_snippet(id, draft).await {
                Ok(_) => {
                    error.set(None);
                    done.set(true);
                    if id.is_none() {
                        name.set(String::new());
                        subject.set(String::new());
                        body.set(String::new());
                        team.set(false);
                    }
                    saved.run(());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let remove = move |_| {
        let Some(id) = id else { return };
        spawn_local(async move {
            match delete_snippet(id).await {
                Ok(()) => saved.run(()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let problem = move |field: &'static str| {
        move || {
            error
                .with(|e| e.as_ref().and_then(|e| e.field_problem(field)))
                .map(|p| p.text(l))
        }
    };
    let general = move || {
        error.with(|e| match e {
            Some(AppError::Invalid(_)) | None => None,
            Some(e) => Some(e.message(l)),
        })
    };
    let ids = |what: &str| format!("{prefix}-{what}");
    let (name_id, subject_id, body_id, team_id) =
        (ids("name"), ids("subject"), ids("body"), ids("team"));
    let (name_err, body_err, subject_err) =
        (ids("name-error"), ids("body-error"), ids("subject-error"));
    view! {
        <form class="snippet-form" on:submit=submit>
            <div class="field">
                <label for=name_id.clone()>{l.t("Snippet name", "Nome del modello")}</label>
                <input id=name_id type="text" prop:value=move || name.get()
                    on:input=move |ev| { name.set(event_target_value(&ev)); done.set(false); }
                    aria-invalid=move || problem("name")().map(|_| "true")
                    aria-describedby=name_err.clone()/>
                <p class="field-error" id=name_err>{problem("name")}</p>
            </div>
            <div class="field">
                <label for=subject_id.clone()>{l.t("Email subject (optional)", "Oggetto email (facoltativo)")}</label>
                <input id=subject_id type="text" prop:value=move || subject.get()
                    on:input=move |ev| { subject.set(event_target_value(&ev)); done.set(false); }
                    aria-describedby=subject_err.clone()/>
                <p class="field-error" id=subject_err>{problem("subject")}</p>
            </div>
            <div class="field">
                <label for=body_id.clone()>{l.t("Snippet text", "Testo del modello")}</label>
                <textarea id=body_id rows="3" prop:value=move || body.get()
                    on:input=move |ev| { body.set(event_target_value(&ev)); done.set(false); }
                    aria-invalid=move || problem("body")().map(|_| "true")
                    aria-describedby=body_err.clone()></textarea>
                <p class="field-error" id=body_err>{problem("body")}</p>
            </div>
            <label class="check" for=team_id.clone()>
                <input id=team_id.clone() type="checkbox" prop:checked=move || team.get()
                    on:change=move |ev| { team.set(event_target_checked(&ev)); done.set(false); }/>
                {l.t("Share with the team", "Condividi con il team")}
            </label>
            {move || general().map(|m| view! { <p class="alert" role="alert">{m}</p> })}
            <div class="actions">
                <button type="submit" class="primary">
                    {if id.is_some() { l.t("Save snippet", "Salva modello") } else { l.t("Create snippet", "Crea modello") }}
                </button>
                {id.map(|_| view! {
                    <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                        {l.t("Delete snippet", "Elimina modello")}
                    </button>
                })}
            </div>
            <p class="save-status" role="status">{move || done.get().then_some(l.t("Saved", "Salvato"))}</p>
            {move || confirming.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-label=l.t("Delete snippet", "Elimina modello")>
                    <p>{l.t("Delete this snippet? Messages already written keep their text.", "Eliminare questo modello? I messaggi già scritti mantengono il loro testo.")}</p>
                    <button type="button" on:click=move |_| confirming.set(false)>{l.t("Cancel", "Annulla")}</button>
                    <button type="button" class="danger" on:click=remove>{l.t("Delete", "Elimina")}</button>
                </div>
            })}
        </form>
    }
}

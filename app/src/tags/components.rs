//! A tag as the page shows it, and the Settings screen for the team's tags.

use leptos::{either::Either, prelude::*, task::spawn_local};
use leptos_meta::Title;

use super::{create_tag, delete_tag, list_tags, update_tag, ContactTag, TagColor, TagUsage};
use crate::{
    error::AppError,
    i18n::{use_locale, Locale},
    resource::json_resource,
    settings::SettingsFrame,
};

/// A tag on a contact: its colour, its name, "auto" when Rubrica put it there, and a remove
/// button when `remove` is given.
#[component]
pub fn TagChip(tag: ContactTag, #[prop(optional)] remove: Option<Callback<()>>) -> impl IntoView {
    let l = use_locale();
    let name = tag.tag.name.clone();
    let auto_title = tag.source.clone().unwrap_or_default();
    let label = match l {
        Locale::En => format!("Remove tag {name}"),
        Locale::It => format!("Rimuovi tag {name}"),
    };
    view! {
        <span class=format!("tag tag-{}", tag.tag.color.as_str())>
            {name}
            {tag.automatic.then(|| view! {
                <span class="tag-auto" title=auto_title>
                    {l.t(" · automatic", " · automatico")}
                </span>
            })}
            {remove.map(|remove| view! {
                <button type="button" class="chip-remove" aria-label=label
                    on:click=move |_| remove.run(())>"×"</button>
            })}
        </span>
    }
}

fn color_options(l: Locale, selected: TagColor) -> impl IntoView {
    TagColor::ALL
        .into_iter()
        .map(|c| view! { <option value=c.as_str() selected=c == selected>{c.label(l)}</option> })
        .collect_view()
}

/// Settings → Tags.
#[component]
pub fn TagsSettingsPage() -> impl IntoView {
    let l = use_locale();
    let tags = json_resource(|| (), |_| list_tags());
    let error = RwSignal::new(None::<AppError>);
    let new_name = RwSignal::new(String::new());
    let new_color = RwSignal::new(TagColor::Blue);
    let create = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (name, color) = (new_name.get_untracked(), new_color.get_untracked());
        spawn_local(async move {
            match create_tag(name, color.as_str().to_string()).await {
                Ok(_) => {
                    error.set(None);
                    new_name.set(String::new());
                    tags.refetch();
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let create_error = move || {
        error
            .get()
            .and_then(|e| e.field_problem("name"))
            .map(|p| p.text(l))
    };
    view! {
        <Title text=l.t("Tags · Settings · Rubrica", "Tag · Impostazioni · Rubrica")/>
        <SettingsFrame>
            <h1>{l.t("Tags", "Tag")}</h1>
            <form class="settings-card inline-form" on:submit=create>
                <h2>{l.t("New tag", "Nuovo tag")}</h2>
                <div class="field">
                    <label for="new-tag-name">{l.t("Tag name", "Nome del tag")}</label>
                    <input id="new-tag-name" type="text" prop:value=move || new_name.get()
                        on:input=move |ev| new_name.set(event_target_value(&ev))
                        aria-invalid=move || create_error().map(|_| "true")
                        aria-describedby=move || create_error().map(|_| "new-tag-name-error")/>
                    {move || create_error().map(|m| view! { <p class="field-error" id="new-tag-name-error">{m}</p> })}
                </div>
                <div class="field">
                    <label for="new-tag-color">{l.t("Colour", "Colore")}</label>
                    <select id="new-tag-color"
                        on:change=move |ev| new_color.set(TagColor::parse(&event_target_value(&ev)).unwrap_or_default())>
                        {color_options(l, TagColor::Blue)}
                    </select>
                </div>
                <button type="submit" class="primary">{l.t("Create tag", "Crea tag")}</button>
            </form>
            <Transition fallback=move || view! { <p class="loading">{l.t("Loading…", "Caricamento…")}</p> }>
                {move || Suspend::new(async move {
                    match tags.await {
                        Ok(list) if list.is_empty() => Either::Left(view! {
                            <p class="empty-state">{l.t("No tags yet.", "Ancora nessun tag.")}</p>
                        }.into_any()),
                        Ok(list) => Either::Left(view! {
                            <ul class="settings-list">
                                {list.into_iter().map(|usage| view! {
                                    <TagRow usage on_change=Callback::new(move |_| tags.refetch())/>
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

/// One tag in Settings: rename, recolour, delete (after saying how many contacts lose it).
#[component]
fn TagRow(usage: TagUsage, on_change: Callback<()>) -> impl IntoView {
    let l = use_locale();
    let TagUsage { tag, contacts } = usage;
    let id = tag.id;
    let name = RwSignal::new(tag.name.clone());
    let color = RwSignal::new(tag.color);
    let error = RwSignal::new(None::<AppError>);
    let confirming = RwSignal::new(false);
    let saved = RwSignal::new(false);
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let (n, c) = (name.get_untracked(), color.get_untracked());
        spawn_local(async move {
            match update_tag(id, n, c.as_str().to_string()).await {
                Ok(_) => {
                    error.set(None);
                    saved.set(true);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let delete = move |_| {
        spawn_local(async move {
            match delete_tag(id).await {
                Ok(()) => on_change.run(()),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let input_id = format!("tag-name-{}", id.simple());
    let color_id = format!("tag-color-{}", id.simple());
    let error_id = format!("tag-error-{}", id.simple());
    let message = move || error.get().map(|e| e.message(l));
    let count = match l {
        Locale::En if contacts == 1 => "1 contact".to_string(),
        Locale::En => format!("{} contacts", l.number(contacts as i64)),
        Locale::It if contacts == 1 => "1 contatto".to_string(),
        Locale::It => format!("{} contatti", l.number(contacts as i64)),
    };
    let confirm_text = match l {
        Locale::En => format!("Delete the tag “{}”? It comes off {count}.", tag.name),
        Locale::It => format!("Eliminare il tag “{}”? Verrà tolto da {count}.", tag.name),
    };
    let group_label = tag.name.clone();
    view! {
        <li class="settings-row" aria-label=group_label>
            <form class="row-form" on:submit=save>
                <span class=move || format!("tag-swatch tag-{}", color.get().as_str()) aria-hidden="true"></span>
                <label for=input_id.clone() class="visually-hidden">{l.t("Tag name", "Nome del tag")}</label>
                <input id=input_id type="text" prop:value=move || name.get()
                    on:input=move |ev| { name.set(event_target_value(&ev)); saved.set(false); }
                    aria-describedby=error_id.clone()/>
                <label for=color_id.clone() class="visually-hidden">{l.t("Colour", "Colore")}</label>
                <select id=color_id on:change=move |ev| {
                    color.set(TagColor::parse(&event_target_value(&ev)).unwrap_or_default());
                    saved.set(false);
                }>
                    {color_options(l, tag.color)}
                </select>
                <span class="muted">{count.clone()}</span>
                <button type="submit">{l.t("Save", "Salva")}</button>
                <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                    {l.t("Delete", "Elimina")}
                </button>
            </form>
            <p class="field-error" id=error_id>{message}</p>
            <p class="save-status" role="status">{move || saved.get().then_some(l.t("Saved", "Salvato"))}</p>
            {move || confirming.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-label=l.t("Delete tag", "Elimina tag")>
                    <p>{confirm_text.clone()}</p>
                    <button type="button" on:click=move |_| confirming.set(false)>{l.t("Cancel", "Annulla")}</button>
                    <button type="button" class="danger" on:click=delete>{l.t("Delete tag", "Elimina tag")}</button>
                </div>
            })}
        </li>
    }
}

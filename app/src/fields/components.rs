//! Shaping the card: Settings → Fields and folders (fields moved by drag and drop or by keyboard,
//! custom fields and folders created, renamed, retyped, deleted; contact types), and the card's own
//! **Add field** dialog. Both use [`NewFieldForm`].

use leptos::{ev, html, prelude::*, task::spawn_local};
use leptos_meta::Title;
use uuid::Uuid;

use super::{
    card_layout, create_contact_type, create_field, create_folder, delete_contact_type,
    delete_field, delete_folder, field_usage, move_contact_type, move_field, move_folder,
    rename_contact_type, rename_folder, update_field, CardField, CustomField, FieldType, Layout,
    LayoutFolder,
};
use crate::{
    error::{AppError, AppResult},
    i18n::{use_locale, Locale},
    resource::json_resource,
    settings::SettingsFrame,
};

/// The problem with one input of a form, in the page's language.
fn problem_of(
    error: RwSignal<Option<AppError>>,
    field: &'static str,
    l: Locale,
) -> impl Fn() -> Option<String> + Copy {
    move || {
        error.with(|e| {
            e.as_ref()
                .and_then(|e| e.field_problem(field))
                .map(|p| p.text(l))
        })
    }
}

/// An error not about one input (a refusal, the network).
fn general_error(
    error: RwSignal<Option<AppError>>,
    l: Locale,
) -> impl Fn() -> Option<String> + Copy {
    move || {
        error.with(|e| match e {
            Some(AppError::Invalid(list))
                if list.iter().all(|f| {
                    ["name", "field_type", "options", "folder"].contains(&f.field.as_str())
                }) =>
            {
                None
            }
            Some(e) => Some(e.message(l)),
            None => None,
        })
    }
}

/// Name, type, options (for selects) and folder of a new custom field. Calls `done` with the
/// new layout once created; the form then empties, ready for another.
#[component]
pub fn NewFieldForm(
    layout: RwSignal<Layout>,
    /// Unique prefix for the controls' ids.
    id_prefix: &'static str,
    #[prop(optional)] folder: Option<Uuid>,
    #[prop(into)] done: Callback<Layout>,
) -> impl IntoView {
    let l = use_locale();
    let name = RwSignal::new(String::new());
    let field_type = RwSignal::new(FieldType::Text);
    let options = RwSignal::new(String::new());
    let folder_id = RwSignal::new(folder);
    let error = RwSignal::new(None::<AppError>);
    let pending = RwSignal::new(false);
    let submit = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let folder = folder_id
            .get_untracked()
            .or_else(|| layout.with_untracked(|l| l.folders.last().map(|f| f.id)));
        let Some(folder) = folder else { return };
        pending.set(true);
        let (n, t, o) = (
            name.get_untracked(),
            field_type.get_untracked(),
            options.get_untracked(),
        );
        spawn_local(async move {
            let result = create_field(n, t.as_str().to_string(), o, folder).await;
            pending.set(false);
            match result {
                Ok(new) => {
                    error.set(None);
                    name.set(String::new());
                    options.set(String::new());
                    done.run(new);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let id = |part: &str| format!("{id_prefix}-{part}");
    let name_error = problem_of(error, "name", l);
    let options_error = problem_of(error, "options", l);
    let general = general_error(error, l);
    view! {
        <form class="field-form" on:submit=submit>
            <div class="field">
                <label for=id("name")>{l.t("Field name", "Nome del campo")}</label>
                <input id=id("name") type="text" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=move || name_error().map(|_| "true")
                    aria-describedby=id("name-error")/>
                <p class="field-error" id=id("name-error")>{name_error}</p>
            </div>
            <div class="field">
                <label for=id("type")>{l.t("Field type", "Tipo di campo")}</label>
                <select id=id("type") on:change=move |ev| {
                    field_type.set(FieldType::parse(&event_target_value(&ev)).unwrap_or(FieldType::Text))
                }>
                    {FieldType::ALL.into_iter().map(|t| view! {
                        <option value=t.as_str() selected=move || field_type.get() == t>{t.label(l)}</option>
                    }).collect_view()}
                </select>
            </div>
            <div class="field" hidden=move || !field_type.get().has_options()>
                <label for=id("options")>{l.t("Options, one per line", "Opzioni, una per riga")}</label>
                <textarea id=id("options") rows="4" prop:value=move || options.get()
                    on:input=move |ev| options.set(event_target_value(&ev))
                    aria-invalid=move || options_error().map(|_| "true")
                    aria-describedby=id("options-error")></textarea>
                <p class="field-error" id=id("options-error")>{options_error}</p>
            </div>
            <div class="field">
                <label for=id("folder")>{l.t("Folder", "Cartella")}</label>
                <select id=id("folder") on:change=move |ev| {
                    folder_id.set(Uuid::parse_str(&event_target_value(&ev)).ok())
                }>
                    {move || layout.with(|layout| layout.folders.iter().map(|f| {
                        let fid = f.id;
                        let selected = folder_id.get_untracked().map_or(
                            layout.folders.last().map(|l| l.id) == Some(fid),
                            |chosen| chosen == fid,
                        );
                        view! { <option value=fid.to_string() selected=selected>{f.label(l)}</option> }
                    }).collect_view())}
                </select>
            </div>
            {move || general().map(|m| view! { <p class="alert" role="alert">{m}</p> })}
            <button type="submit" class="primary" disabled=move || pending.get()>
                {l.t("Create field", "Crea campo")}
            </button>
        </form>
    }
}

/// **Add field** on the card (admins): a dialog with [`NewFieldForm`]; the new field appears in
/// the card at once.
#[component]
pub fn AddFieldDialog(layout: RwSignal<Layout>) -> impl IntoView {
    let l = use_locale();
    let dialog = NodeRef::<html::Dialog>::new();
    let open = move |_| {
        if let Some(d) = dialog.get() {
            let _ = d.show_modal();
        }
    };
    let close = move || {
        if let Some(d) = dialog.get() {
            d.close();
        }
    };
    view! {
        <button type="button" on:click=open>{l.t("Add field", "Aggiungi campo")}</button>
        <dialog node_ref=dialog class="dialog" aria-labelledby="add-field-title">
            <h2 id="add-field-title">{l.t("Add field", "Aggiungi campo")}</h2>
            <NewFieldForm layout id_prefix="add-field" done=move |new: Layout| {
                layout.set(new);
                close();
            }/>
            <div class="actions">
                <button type="button" on:click=move |_| close()>{l.t("Close", "Chiudi")}</button>
            </div>
        </dialog>
    }
}

/// Runs a layout change; its answer replaces the layout, a refusal goes to `error`.
fn change(
    layout: RwSignal<Layout>,
    error: RwSignal<Option<AppError>>,
    call: impl std::future::Future<Output = AppResult<Layout>> + 'static,
) {
    spawn_local(async move {
        match call.await {
            Ok(new) => {
                error.set(None);
                layout.set(new);
            }
            Err(e) => error.set(Some(e)),
        }
    });
}

/// Settings → Fields and folders.
#[component]
pub fn FieldsSettingsPage() -> impl IntoView {
    let l = use_locale();
    let loaded = json_resource(|| (), |_| card_layout());
    view! {
        <Title text=l.t("Fields and folders · Settings · Rubrica", "Campi e cartelle · Impostazioni · Rubrica")/>
        <SettingsFrame>
            <h1>{l.t("Fields and folders", "Campi e cartelle")}</h1>
            <Transition fallback=move || view! { <p class="loading">{l.t("Loading…", "Caricamento…")}</p> }>
                {move || Suspend::new(async move {
                    match loaded.await {
                        Ok(layout) => view! { <LayoutEditor layout=RwSignal::new(layout)/> }.into_any(),
                        Err(e) => view! { <p class="alert" role="alert">{e.message(l)}</p> }.into_any(),
                    }
                })}
            </Transition>
        </SettingsFrame>
    }
}

#[component]
fn LayoutEditor(layout: RwSignal<Layout>) -> impl IntoView {
    let l = use_locale();
    let error = RwSignal::new(None::<AppError>);
    // The field being dragged, if any.
    let dragging = RwSignal::new(None::<Uuid>);
    let folder_name = RwSignal::new(String::new());
    let folder_error = RwSignal::new(None::<AppError>);
    let add_folder = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let name = folder_name.get_untracked();
        spawn_local(async move {
            match create_folder(name).await {
                Ok(new) => {
                    folder_error.set(None);
                    folder_name.set(String::new());
                    layout.set(new);
                }
                Err(e) => folder_error.set(Some(e)),
            }
        });
    };
    let folder_name_error = problem_of(folder_error, "name", l);
    let message = move || error.get().map(|e| e.message(l));
    view! {
        <p class="hint">{l.t(
            "Drag a field to move it, or use its buttons: Move up, Move down, and the folder list.",
            "Trascina un campo per spostarlo, oppure usa i suoi pulsanti: Sposta su, Sposta giù e l'elenco delle cartelle.",
        )}</p>
        <p class="alert" role="alert" hidden=move || message().is_none()>{message}</p>
        <section class="settings-card" aria-labelledby="new-field-heading">
            <h2 id="new-field-heading">{l.t("New field", "Nuovo campo")}</h2>
            <NewFieldForm layout id_prefix="new-field" done=move |new| layout.set(new)/>
        </section>
        <form class="settings-card inline-form" on:submit=add_folder>
            <h2>{l.t("New folder", "Nuova cartella")}</h2>
            <div class="field">
                <label for="new-folder-name">{l.t("Folder name", "Nome della cartella")}</label>
                <input id="new-folder-name" type="text" prop:value=move || folder_name.get()
                    on:input=move |ev| folder_name.set(event_target_value(&ev))
                    aria-invalid=move || folder_name_error().map(|_| "true")
                    aria-describedby="new-folder-name-error"/>
                <p class="field-error" id="new-folder-name-error">{folder_name_error}</p>
            </div>
            <button type="submit" class="primary">{l.t("Create folder", "Crea cartella")}</button>
        </form>
        <For each=move || layout.with(|l| l.folders.iter().map(|f| f.id).collect::<Vec<_>>())
            key=|id| *id let:folder_id>
            <FolderEditor layout folder_id error dragging/>
        </For>
        <ContactTypesEditor layout/>
    }
}

#[component]
fn FolderEditor(
    layout: RwSignal<Layout>,
    folder_id: Uuid,
    error: RwSignal<Option<AppError>>,
    dragging: RwSignal<Option<Uuid>>,
) -> impl IntoView {
    let l = use_locale();
    let folder = move || -> Option<LayoutFolder> {
        layout.with(|layout| layout.folders.iter().find(|f| f.id == folder_id).cloned())
    };
    let index = move || {
        layout.with(|layout| {
            layout
                .folders
                .iter()
                .position(|f| f.id == folder_id)
                .unwrap_or(0)
        })
    };
    let count = move || layout.with(|l| l.folders.len());
    let label = move || folder().map(|f| f.label(l)).unwrap_or_default();
    let standard = folder().is_some_and(|f| f.standard.is_some());
    let heading_id = format!("settings-folder-{}", folder_id.simple());
    let rename = RwSignal::new(folder().and_then(|f| f.name).unwrap_or_default());
    let rename_error = RwSignal::new(None::<AppError>);
    let on_rename = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let name = rename.get_untracked();
        spawn_local(async move {
            match rename_folder(folder_id, name).await {
                Ok(new) => {
                    rename_error.set(None);
                    layout.set(new);
                }
                Err(e) => rename_error.set(Some(e)),
            }
        });
    };
    let move_to =
        move |position: usize| change(layout, error, move_folder(folder_id, position as u32));
    let confirming = RwSignal::new(false);
    // Dropped on the folder itself (not on a field): to its end.
    let on_drop = move |ev: ev::DragEvent| {
        ev.prevent_default();
        if let Some(field) = dragging.get_untracked() {
            dragging.set(None);
            let end = folder().map_or(0, |f| f.fields.len());
            change(layout, error, move_field(field, folder_id, end as u32));
        }
    };
    let rename_problem = problem_of(rename_error, "name", l);
    let rename_id = format!("folder-name-{}", folder_id.simple());
    let fields = move || {
        folder()
            .map(|f| f.fields.iter().map(|f| f.id).collect::<Vec<_>>())
            .unwrap_or_default()
    };
    view! {
        <section class="settings-card folder-editor" aria-labelledby=heading_id.clone()
            on:dragover=move |ev: ev::DragEvent| ev.prevent_default()
            on:drop=on_drop>
            <div class="folder-head">
                <h2 id=heading_id.clone()>{label}</h2>
                <div class="row-actions">
                    <button type="button" disabled=move || index() == 0
                        aria-label=move || match l {
                            Locale::En => format!("Move folder {} up", label()),
                            Locale::It => format!("Sposta su la cartella {}", label()),
                        }
                        on:click=move |_| move_to(index().saturating_sub(1))>"↑"</button>
                    <button type="button" disabled=move || { index() + 1 >= count() }
                        aria-label=move || match l {
                            Locale::En => format!("Move folder {} down", label()),
                            Locale::It => format!("Sposta giù la cartella {}", label()),
                        }
                        on:click=move |_| move_to(index() + 1)>"↓"</button>
                </div>
            </div>
            {(!standard).then(|| view! {
                <form class="inline-form" on:submit=on_rename>
                    <label for=rename_id.clone()>{l.t("Folder name", "Nome della cartella")}</label>
                    <input id=rename_id type="text" prop:value=move || rename.get()
                        on:input=move |ev| rename.set(event_target_value(&ev))/>
                    <button type="submit">{l.t("Rename", "Rinomina")}</button>
                    <button type="button" class="danger" on:click=move |_| confirming.set(true)>
                        {l.t("Delete folder", "Elimina cartella")}
                    </button>
                    <p class="field-error">{rename_problem}</p>
                </form>
                {move || confirming.get().then(|| view! {
                    <div class="confirm" role="alertdialog" aria-label=l.t("Delete folder", "Elimina cartella")>
                        <p>{match l {
                            Locale::En => format!("Delete the folder “{}”? Its fields move to Additional Info; no value is lost.", label()),
                            Locale::It => format!("Eliminare la cartella “{}”? I suoi campi passano in Informazioni aggiuntive; nessun valore va perso.", label()),
                        }}</p>
                        <button type="button" on:click=move |_| confirming.set(false)>{l.t("Cancel", "Annulla")}</button>
                        <button type="button" class="danger"
                            on:click=move |_| change(layout, error, delete_folder(folder_id))>
                            {l.t("Delete", "Elimina")}
                        </button>
                    </div>
                })}
            })}
            <ul class="field-list">
                <For each=fields key=|id| *id let:field_id>
                    <FieldEditor layout folder_id field_id error dragging/>
                </For>
            </ul>
            {move || fields().is_empty().then(|| view! {
                <p class="muted">{l.t("No fields. Drag one here, or choose this folder for it.", "Nessun campo. Trascinane uno qui, o scegli questa cartella per il campo.")}</p>
            })}
        </section>
    }
}

#[component]
fn FieldEditor(
    layout: RwSignal<Layout>,
    folder_id: Uuid,
    field_id: Uuid,
    error: RwSignal<Option<AppError>>,
    dragging: RwSignal<Option<Uuid>>,
) -> impl IntoView {
    let l = use_locale();
    let found = move || {
        layout.with(|layout| {
            layout
                .folders
                .iter()
                .find(|f| f.id == folder_id)
                .and_then(|folder| {
                    folder
                        .fields
                        .iter()
                        .position(|f| f.id == field_id)
                        .map(|i| (i, folder.fields.len(), folder.fields[i].field.clone()))
                })
        })
    };
    let index = move || found().map_or(0, |(i, _, _)| i);
    let len = move || found().map_or(0, |(_, n, _)| n);
    let label = move || found().map(|(_, _, f)| f.label(l)).unwrap_or_default();
    let kind = move || match found().map(|(_, _, f)| f) {
        Some(CardField::Custom(c)) => c.field_type.label(l).to_string(),
        _ => l.t("Standard", "Standard").to_string(),
    };
    let custom = move || match found().map(|(_, _, f)| f) {
        Some(CardField::Custom(c)) => Some(c),
        _ => None,
    };
    let move_within = move |position: usize| {
        change(
            layout,
            error,
            move_field(field_id, folder_id, position as u32),
        )
    };
    let to_folder = move |ev: ev::Event| {
        if let Ok(target) = Uuid::parse_str(&event_target_value(&ev)) {
            if target != folder_id {
                let end = layout.with_untracked(|l| {
                    l.folders
                        .iter()
                        .find(|f| f.id == target)
                        .map_or(0, |f| f.fields.len())
                });
                change(layout, error, move_field(field_id, target, end as u32));
            }
        }
    };
    // Dropped on this field: the dragged one takes its place.
    let on_drop = move |ev: ev::DragEvent| {
        ev.prevent_default();
        ev.stop_propagation();
        if let Some(dragged) = dragging.get_untracked() {
            dragging.set(None);
            if dragged != field_id {
                change(
                    layout,
                    error,
                    move_field(dragged, folder_id, index() as u32),
                );
            }
        }
    };
    let on_drag_start = move |ev: ev::DragEvent| {
        dragging.set(Some(field_id));
        if let Some(data) = ev.data_transfer() {
            let _ = data.set_data("text/plain", &field_id.to_string());
            data.set_effect_allowed("move");
        }
    };
    let folder_select = format!("field-folder-{}", field_id.simple());
    let editing = RwSignal::new(false);
    view! {
        <li class="field-item" draggable="true" on:dragstart=on_drag_start
            on:dragend=move |_| dragging.set(None)
            on:dragover=move |ev: ev::DragEvent| ev.prevent_default()
            on:drop=on_drop
            class:dragging=move || dragging.get() == Some(field_id)>
            <span class="drag-handle" aria-hidden="true">"⋮⋮"</span>
            <span class="field-name">{label}</span>
            <span class="muted">{kind}</span>
            <div class="row-actions">
                <button type="button" disabled=move || index() == 0
                    aria-label=move || match l {
                        Locale::En => format!("Move {} up", label()),
                        Locale::It => format!("Sposta su {}", label()),
                    }
                    on:click=move |_| move_within(index().saturating_sub(1))>"↑"</button>
                <button type="button" disabled=move || { index() + 1 >= len() }
                    aria-label=move || match l {
                        Locale::En => format!("Move {} down", label()),
                        Locale::It => format!("Sposta giù {}", label()),
                    }
                    on:click=move |_| move_within(index() + 1)>"↓"</button>
                <label for=folder_select.clone() class="visually-hidden">
                    {move || match l {
                        Locale::En => format!("Folder of {}", label()),
                        Locale::It => format!("Cartella di {}", label()),
                    }}
                </label>
                <select id=folder_select on:change=to_folder>
                    {move || layout.with(|layout| layout.folders.iter().map(|f| {
                        let fid = f.id;
                        view! { <option value=fid.to_string() selected=fid == folder_id>{f.label(l)}</option> }
                    }).collect_view())}
                </select>
                {move || custom().is_some().then(|| view! {
                    <button type="button" aria-expanded=move || editing.get().to_string()
                        aria-label=move || match l {
                            Locale::En => format!("Edit {}", label()),
                            Locale::It => format!("Modifica {}", label()),
                        }
                        on:click=move |_| editing.update(|e| *e = !*e)>
                        {l.t("Edit", "Modifica")}
                    </button>
                })}
            </div>
            {move || match (editing.get(), custom()) {
                (true, Some(custom)) => Some(view! {
                    <CustomFieldEditor layout custom close=Callback::new(move |_| editing.set(false))/>
                }),
                _ => None,
            }}
        </li>
    }
}

/// Rename, retype, change the options of, or delete one custom field.
#[component]
fn CustomFieldEditor(
    layout: RwSignal<Layout>,
    custom: CustomField,
    close: Callback<()>,
) -> impl IntoView {
    let l = use_locale();
    let id = custom.id;
    let name = RwSignal::new(custom.name.clone());
    let field_type = RwSignal::new(custom.field_type);
    let options = RwSignal::new(custom.options.join("\n"));
    let error = RwSignal::new(None::<AppError>);
    // How many contacts lose a value, once asked before deleting.
    let usage = RwSignal::new(None::<u64>);
    let save = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let (n, t, o) = (
            name.get_untracked(),
            field_type.get_untracked(),
            options.get_untracked(),
        );
        spawn_local(async move {
            match update_field(id, n, t.as_str().to_string(), o).await {
                Ok(new) => {
                    error.set(None);
                    layout.set(new);
                    close.run(());
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let ask_delete = move |_| {
        spawn_local(async move {
            match field_usage(id).await {
                Ok(n) => usage.set(Some(n)),
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let prefix = format!("edit-field-{}", id.simple());
    let fid = move |part: &str| format!("{prefix}-{part}");
    let name_error = problem_of(error, "name", l);
    let type_error = problem_of(error, "field_type", l);
    let options_error = problem_of(error, "options", l);
    let general = general_error(error, l);
    let field_name = custom.name.clone();
    view! {
        <form class="field-form nested" on:submit=save>
            <div class="field">
                <label for=fid("name")>{l.t("Field name", "Nome del campo")}</label>
                <input id=fid("name") type="text" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))
                    aria-invalid=move || name_error().map(|_| "true")
                    aria-describedby=fid("name-error")/>
                <p class="field-error" id=fid("name-error")>{name_error}</p>
            </div>
            <div class="field">
                <label for=fid("type")>{l.t("Field type", "Tipo di campo")}</label>
                <select id=fid("type") aria-describedby=fid("type-error")
                    on:change=move |ev| field_type.set(FieldType::parse(&event_target_value(&ev)).unwrap_or(FieldType::Text))>
                    {FieldType::ALL.into_iter().map(|t| view! {
                        <option value=t.as_str() selected=t == custom.field_type>{t.label(l)}</option>
                    }).collect_view()}
                </select>
                <p class="field-error" id=fid("type-error")>{type_error}</p>
            </div>
            <div class="field" hidden=move || !field_type.get().has_options()>
                <label for=fid("options")>{l.t("Options, one per line", "Opzioni, una per riga")}</label>
                <textarea id=fid("options") rows="4" prop:value=move || options.get()
                    on:input=move |ev| options.set(event_target_value(&ev))
                    aria-describedby=fid("options-error")></textarea>
                <p class="field-error" id=fid("options-error")>{options_error}</p>
            </div>
            {move || general().map(|m| view! { <p class="alert" role="alert">{m}</p> })}
            <div class="actions">
                <button type="button" class="danger" on:click=ask_delete>{l.t("Delete field", "Elimina campo")}</button>
                <button type="button" on:click=move |_| close.run(())>{l.t("Cancel", "Annulla")}</button>
                <button type="submit" class="primary">{l.t("Save field", "Salva campo")}</button>
            </div>
            {move || usage.get().map(|n| {
                let text = match (l, n) {
                    (Locale::En, 0) => format!("Delete the field “{field_name}”? No contact has a value in it."),
                    (Locale::En, 1) => format!("Delete the field “{field_name}”? 1 contact loses its value."),
                    (Locale::En, n) => format!("Delete the field “{field_name}”? {n} contacts lose their value."),
                    (Locale::It, 0) => format!("Eliminare il campo “{field_name}”? Nessun contatto ha un valore."),
                    (Locale::It, 1) => format!("Eliminare il campo “{field_name}”? 1 contatto perde il suo valore."),
                    (Locale::It, n) => format!("Eliminare il campo “{field_name}”? {n} contatti perdono il loro valore."),
                };
                view! {
                    <div class="confirm" role="alertdialog" aria-label=l.t("Delete field", "Elimina campo")>
                        <p>{text}</p>
                        <button type="button" on:click=move |_| usage.set(None)>{l.t("Keep the field", "Mantieni il campo")}</button>
                        <button type="button" class="danger"
                            on:click=move |_| change(layout, error, delete_field(id))>
                            {l.t("Delete", "Elimina")}
                        </button>
                    </div>
                }
            })}
        </form>
    }
}

#[component]
fn ContactTypesEditor(layout: RwSignal<Layout>) -> impl IntoView {
    let l = use_locale();
    let error = RwSignal::new(None::<AppError>);
    let new_name = RwSignal::new(String::new());
    let add = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let name = new_name.get_untracked();
        spawn_local(async move {
            match create_contact_type(name).await {
                Ok(new) => {
                    error.set(None);
                    new_name.set(String::new());
                    layout.set(new);
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let message = move || error.get().map(|e| e.message(l));
    let ids = move || layout.with(|l| l.contact_types.iter().map(|t| t.id).collect::<Vec<_>>());
    view! {
        <section class="settings-card" aria-labelledby="contact-types-heading">
            <h2 id="contact-types-heading">{l.t("Contact types", "Tipi di contatto")}</h2>
            <p class="hint">{l.t(
                "A contact can also be left without a type.",
                "Un contatto può anche restare senza tipo.",
            )}</p>
            <ul class="settings-list">
                <For each=ids key=|id| *id let:type_id>
                    <ContactTypeRow layout type_id error/>
                </For>
            </ul>
            <p class="field-error" role="alert">{message}</p>
            <form class="inline-form" on:submit=add>
                <label for="new-contact-type">{l.t("New contact type", "Nuovo tipo di contatto")}</label>
                <input id="new-contact-type" type="text" prop:value=move || new_name.get()
                    on:input=move |ev| new_name.set(event_target_value(&ev))/>
                <button type="submit">{l.t("Add type", "Aggiungi tipo")}</button>
            </form>
        </section>
    }
}

#[component]
fn ContactTypeRow(
    layout: RwSignal<Layout>,
    type_id: Uuid,
    error: RwSignal<Option<AppError>>,
) -> impl IntoView {
    let l = use_locale();
    let label = move || {
        layout.with(|layout| {
            layout
                .contact_type(type_id)
                .map(|t| t.label(l))
                .unwrap_or_default()
        })
    };
    let index = move || {
        layout.with(|l| {
            l.contact_types
                .iter()
                .position(|t| t.id == type_id)
                .unwrap_or(0)
        })
    };
    let count = move || layout.with(|l| l.contact_types.len());
    let name = RwSignal::new(label());
    let input_id = format!("contact-type-{}", type_id.simple());
    let rename = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        change(
            layout,
            error,
            rename_contact_type(type_id, name.get_untracked()),
        );
    };
    let confirming = RwSignal::new(false);
    view! {
        <li class="settings-row">
            <form class="row-form" on:submit=rename>
                <label for=input_id.clone() class="visually-hidden">
                    {move || match l {
                        Locale::En => format!("Name of contact type {}", label()),
                        Locale::It => format!("Nome del tipo di contatto {}", label()),
                    }}
                </label>
                <input id=input_id type="text" prop:value=move || name.get()
                    on:input=move |ev| name.set(event_target_value(&ev))/>
                <button type="submit">{l.t("Rename", "Rinomina")}</button>
                <button type="button" disabled=move || index() == 0
                    aria-label=move || match l {
                        Locale::En => format!("Move {} up", label()),
                        Locale::It => format!("Sposta su {}", label()),
                    }
                    on:click=move |_| change(layout, error, move_contact_type(type_id, index().saturating_sub(1) as u32))>"↑"</button>
                <button type="button" disabled=move || { index() + 1 >= count() }
                    aria-label=move || match l {
                        Locale::En => format!("Move {} down", label()),
                        Locale::It => format!("Sposta giù {}", label()),
                    }
                    on:click=move |_| change(layout, error, move_contact_type(type_id, index() as u32 + 1))>"↓"</button>
                <button type="button" class="danger" on:click=move |_| confirming.set(true)
                    aria-label=move || match l {
                        Locale::En => format!("Delete {}", label()),
                        Locale::It => format!("Elimina {}", label()),
                    }>
                    {l.t("Delete", "Elimina")}
                </button>
            </form>
            {move || confirming.get().then(|| view! {
                <div class="confirm" role="alertdialog" aria-label=l.t("Delete contact type", "Elimina tipo di contatto")>
                    <p>{match l {
                        Locale::En => format!("Delete the type “{}”? Contacts of this type are left without one.", label()),
                        Locale::It => format!("Eliminare il tipo “{}”? I contatti di questo tipo resteranno senza tipo.", label()),
                    }}</p>
                    <button type="button" on:click=move |_| confirming.set(false)>{l.t("Cancel", "Annulla")}</button>
                    <button type="button" class="danger"
                        on:click=move |_| change(layout, error, delete_contact_type(type_id))>
                        {l.t("Delete", "Elimina")}
                    </button>
                </div>
            })}
        </li>
    }
}

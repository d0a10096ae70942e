//! The contacts list, the **New contact** dialog, and the contact page's lazily loaded route and
//! loader (the page itself is in `card.rs`).

use leptos::{either::Either, html, prelude::*};
use leptos_meta::Title;
use leptos_router::hooks::{use_location, use_navigate, use_params_map};
use uuid::Uuid;

use super::{
    card::{ContactScreen, PrefetchCache},
    list_contacts,
    standard::{format_phone, Field},
    url_pairs, ContactKind, ContactListPage, CreateContact, ListPlace, ListQuery, ListTotal,
    SortOrder, PAGE_SIZE,
};
use crate::{
    error::AppError,
    i18n::{use_locale, Locale},
    resource::json_resource,
    ui::{action_error, FormAlert, TextField},
};

#[component]
pub fn ContactsPage() -> impl IntoView {
    let location = use_location();
    // From the query string itself: tag filters repeat their key.
    let list_query = Memo::new(move |_| ListQuery::from_pairs(url_pairs(&location.search.read())));
    let page = json_resource(
        move || list_query.get(),
        |query| {
            let tags = |is: bool| {
                Some(
                    query
                        .tags
                        .iter()
                        .filter(|f| f.is == is)
                        .map(|f| f.tag)
                        .collect::<Vec<_>>(),
                )
            };
            list_contacts(
                Some(query.q.clone()),
                Some(query.sort.as_param().to_string()),
                query.after.clone(),
                query.before.clone(),
                tags(true),
                tags(false),
            )
        },
    );

    let submit_on_change = |ev: leptos::ev::Event| {
        if let Some(form) = event_target::<web_sys::HtmlSelectElement>(&ev).form() {
            let _ = form.request_submit();
        }
    };
    // A plain GET form (it works before the page's code has loaded); once the code runs, a search
    // navigates on the client to the list's first page for that search and sort.
    let navigate = use_navigate();
    let search = move |ev: leptos::ev::SubmitEvent| {
        let Ok(data) = web_sys::FormData::new_with_form(&event_target(&ev)) else {
            return;
        };
        ev.prevent_default();
        let mut query = ListQuery::from_pairs(
            ["q", "sort"]
                .into_iter()
                .filter_map(|key| data.get(key).as_string().map(|value| (key, value))),
        );
        // A new search keeps the tag filters.
        query.tags = list_query.with_untracked(|q| q.tags.clone());
        navigate(
            &format!("/contacts{}", query.to_query_string()),
            Default::default(),
        );
    };

    let l = use_locale();
    view! {
        <Title text=l.t("Contacts · Rubrica", "Contatti · Rubrica")/>
        <div class="page-head">
            <h1>{l.t("Contacts", "Contatti")}</h1>
            <div class="page-actions">
                // The list as it is searched, filtered and sorted, as a file (only the contacts
                // the user may see).
                <a class="button" rel="external" download
                    href=move || list_query.with(|q| format!("/contacts/export.csv{}", q.first_page().to_query_string()))>
                    {l.t("Export CSV", "Esporta CSV")}
                </a>
                <NewContactDialog/>
            </div>
        </div>
        <form method="get" action="/contacts" class="list-controls" role="search" on:submit=search>
            <input
                type="search"
                name="q"
                aria-label=l.t("Search contacts", "Cerca contatti")
                placeholder=l.t("Name, email, phone or company", "Nome, email, telefono o azienda")
                value=move || list_query.read().q.clone()
                prop:value=move || list_query.read().q.clone()
            />
            <label for="contacts-sort" class="visually-hidden">{l.t("Sort", "Ordina")}</label>
            <select id="contacts-sort" name="sort" on:change=submit_on_change>
                {SortOrder::ALL
                    .into_iter()
                    .map(|order| {
                        view! {
                            <option
                                value=order.as_param()
                                selected=move || list_query.read().sort == order
                            >
                                {order.label(l)}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            {move || list_query.with(|q| q.tags.iter().map(|f| {
                let key = if f.is { "tag" } else { "not_tag" };
                view! { <input type="hidden" name=key value=f.tag.to_string()/> }
            }).collect_view())}
            <button type="submit">{l.t("Search", "Cerca")}</button>
        </form>
        <TagFilterForm list_query/>
        <Transition fallback=move || view! {
            <p class="loading">{l.t("Loading contacts…", "Caricamento dei contatti…")}</p>
        }>
            {move || Suspend::new(async move {
                let query = list_query.get_untracked();
                match page.await {
                    Ok(result) => Either::Left(view! {
                        <ActiveTagFilters result=result.clone() query=query.clone()/>
                        <ContactList result query/>
                    }),
                    Err(e) => Either::Right(view! { <p class="alert" role="alert">{e.summary(l)}</p> }),
                }
            })}
        </Transition>
    }
}

/// "12 contacts", "More than 10,000 contacts match"…
fn count_text(l: Locale, total: i64, at_least: bool, searching: bool) -> String {
    let n = l.number(total);
    match (l, searching, at_least, total) {
        (Locale::En, true, true, _) => format!("More than {n} contacts match"),
        (Locale::En, true, false, 1) => "1 contact matches".to_string(),
        (Locale::En, true, false, _) => format!("{n} contacts match"),
        (Locale::En, false, true, _) => format!("More than {n} contacts"),
        (Locale::En, false, _, 1) => "1 contact".to_string(),
        (Locale::En, false, _, _) => format!("{n} contacts"),
        (Locale::It, true, true, _) => format!("Più di {n} contatti trovati"),
        (Locale::It, true, false, 1) => "1 contatto trovato".to_string(),
        (Locale::It, true, false, _) => format!("{n} contatti trovati"),
        (Locale::It, false, true, _) => format!("Più di {n} contatti"),
        (Locale::It, false, _, 1) => "1 contatto".to_string(),
        (Locale::It, false, _, _) => format!("{n} contatti"),
    }
}

/// The tag filters in force, each with a link that drops it.
#[component]
fn ActiveTagFilters(result: ContactListPage, query: ListQuery) -> impl IntoView {
    let l = use_locale();
    (!query.tags.is_empty()).then(|| {
        let items = query
            .tags
            .iter()
            .map(|f| {
                let name = result
                    .filter_tags
                    .iter()
                    .find(|(id, _)| *id == f.tag)
                    .map(|(_, name)| name.clone())
                    .unwrap_or_else(|| l.t("(deleted tag)", "(tag eliminato)").to_string());
                let text = match (l, f.is) {
                    (Locale::En, true) => format!("Tag is {name}"),
                    (Locale::En, false) => format!("Tag is not {name}"),
                    (Locale::It, true) => format!("Tag è {name}"),
                    (Locale::It, false) => format!("Tag non è {name}"),
                };
                let remove = match l {
                    Locale::En => format!("Remove filter: {text}"),
                    Locale::It => format!("Rimuovi filtro: {text}"),
                };
                let href = format!("/contacts{}", query.with_tag(f.tag, None).to_query_string());
                view! {
                    <li class="chip">{text}<a href=href class="chip-remove" aria-label=remove>"×"</a></li>
                }
            })
            .collect_view();
        view! {
            <ul class="chips filters" aria-label=l.t("Filters", "Filtri")>{items}</ul>
        }
    })
}

/// "Filter by tag": a tag, is or is not, added to the list's filters. The form (and the team's
/// tags in it) comes in a wasm chunk of its own when first opened, so the list never waits for it.
#[component]
fn TagFilterForm(list_query: Memo<ListQuery>) -> impl IntoView {
    let l = use_locale();
    let opened = RwSignal::new(false);
    view! {
        <details class="tag-filter" on:toggle=move |_| opened.set(true)>
            <summary>{l.t("Filter by tag", "Filtra per tag")}</summary>
            <Suspense>
                {move || opened.get().then(|| {
                    Suspend::new(send_wrapper::SendWrapper::new(tag_filter_form(list_query)))
                })}
            </Suspense>
        </details>
    }
}

#[leptos::lazy]
fn tag_filter_form(list_query: Memo<ListQuery>) -> AnyView {
    view! { <TagFilterFields list_query/> }.into_any()
}

#[component]
fn TagFilterFields(list_query: Memo<ListQuery>) -> impl IntoView {
    let l = use_locale();
    let tags = LocalResource::new(crate::tags::list_tags);
    let navigate = use_navigate();
    let add = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let Ok(data) = web_sys::FormData::new_with_form(&event_target(&ev)) else {
            return;
        };
        let field = |name: &str| data.get(name).as_string().unwrap_or_default();
        let Ok(tag) = Uuid::parse_str(&field("tag")) else {
            return;
        };
        let is = field("condition") != "is_not";
        let query = list_query.with_untracked(|q| q.with_tag(tag, Some(is)));
        navigate(
            &format!("/contacts{}", query.to_query_string()),
            Default::default(),
        );
    };
    let options = move || match tags.get() {
        None => view! { <option value="">{l.t("Loading…", "Caricamento…")}</option> }.into_any(),
        Some(Err(e)) => view! { <option value="">{e.message(l)}</option> }.into_any(),
        Some(Ok(list)) if list.is_empty() => view! {
            <option value="">{l.t("No tags yet", "Ancora nessun tag")}</option>
        }
        .into_any(),
        Some(Ok(list)) => list
            .into_iter()
            .map(|t| view! { <option value=t.tag.id.to_string()>{t.tag.name}</option> })
            .collect_view()
            .into_any(),
    };
    view! {
        <form on:submit=add class="list-controls">
            <label for="filter-tag">{l.t("Tag", "Tag")}</label>
            <select id="filter-tag" name="tag" required=true>{options}</select>
            <label for="filter-condition">{l.t("Condition", "Condizione")}</label>
            <select id="filter-condition" name="condition">
                <option value="is">{l.t("is", "è")}</option>
                <option value="is_not">{l.t("is not", "non è")}</option>
            </select>
            <button type="submit">{l.t("Add filter", "Aggiungi filtro")}</button>
        </form>
    }
}

#[component]
fn ContactList(result: ContactListPage, query: ListQuery) -> impl IntoView {
    let l = use_locale();
    let searching = query.is_filtered();
    let count = count_text(l, result.total, result.total_is_lower_bound, searching);
    // Opening a contact carries the list along (and the contact's place in it), so the contact
    // page can step through it.
    let of = Some(ListTotal {
        count: result.total as u64,
        at_least: result.total_is_lower_bound,
    });
    let start = query.start;
    let item_count = result.items.len() as u64;
    let empty = result.items.is_empty().then(|| {
        let q = query.q.trim();
        let message = match (l, searching) {
            (Locale::En, true) if q.is_empty() => "No contacts match these filters.".to_string(),
            (Locale::It, true) if q.is_empty() => {
                "Nessun contatto corrisponde a questi filtri.".to_string()
            }
            (Locale::En, true) => format!("No contacts match “{q}”."),
            (Locale::It, true) => format!("Nessun contatto corrisponde a “{q}”."),
            (l, false) => l
                .t(
                    "No contacts yet. Create the first one with New contact.",
                    "Ancora nessun contatto. Crea il primo con Nuovo contatto.",
                )
                .to_string(),
        };
        view! { <p class="empty-state">{message}</p> }
    });
    let page_link = |after: Option<String>, before: Option<String>, start: u64| {
        format!(
            "/contacts{}",
            ListQuery {
                after,
                before,
                start,
                ..query.first_page()
            }
            .to_query_string()
        )
    };
    let previous = result.previous.map(|cursor| {
        let href = page_link(None, Some(cursor), start.saturating_sub(PAGE_SIZE as u64));
        view! { <a href=href rel="prev">{l.t("Previous page", "Pagina precedente")}</a> }
    });
    let next = result.next.map(|cursor| {
        let href = page_link(Some(cursor), None, start + item_count);
        view! { <a href=href rel="next">{l.t("Next page", "Pagina successiva")}</a> }
    });
    view! {
        <p class="count" role="status">{count}</p>
        {empty}
        <ul class="contact-list">
            {result
                .items
                .into_iter()
                .enumerate()
                .map(|(i, c)| {
                    let place = ListPlace {
                        list: query.first_page(),
                        pos: Some(start + i as u64 + 1),
                        of,
                    };
                    let phone = c.phone.as_deref().map(format_phone);
                    let details = [c.business_name.filter(|_| c.kind == ContactKind::Person), c.email, phone, c.city]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ");
                    view! {
                        <li>
                            <a href=format!("/contacts/{}{}", c.id, place.to_query_string())>{c.display_name}</a>
                            <span class="kind">{c.kind.label(l)}</span>
                            <span class="details">{details}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <nav class="pager" aria-label=l.t("Pages", "Pagine")>{previous}{next}</nav>
    }
}

/// **New contact**: the button and its dialog. The form inside (its checks, its words, the code
/// that sends it) comes in a wasm chunk of its own, fetched when the dialog first opens; once
/// there it stays, with whatever was typed, until the page changes.
#[component]
fn NewContactDialog() -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let opened = RwSignal::new(false);
    let open = move |_| {
        opened.set(true);
        if let Some(dialog) = dialog.get() {
            let _ = dialog.show_modal();
        }
    };
    let close = Callback::new(move |_| {
        if let Some(dialog) = dialog.get() {
            dialog.close();
        }
    });
    let l = use_locale();
    view! {
        <button type="button" class="primary" on:click=open>{l.t("New contact", "Nuovo contatto")}</button>
        <dialog node_ref=dialog class="dialog" aria-labelledby="new-contact-title">
            <h2 id="new-contact-title">{l.t("New contact", "Nuovo contatto")}</h2>
            <Suspense fallback=move || view! { <p class="loading">{l.t("Loading…", "Caricamento…")}</p> }>
                {move || opened.get().then(|| {
                    Suspend::new(send_wrapper::SendWrapper::new(new_contact_form(close)))
                })}
            </Suspense>
        </dialog>
    }
    // Erased: the page's view type is otherwise too deep for the compiler's default limits.
    .into_any()
}

#[leptos::lazy]
fn new_contact_form(close: Callback<()>) -> AnyView {
    view! { <NewContactForm close/> }.into_any()
}

#[component]
fn NewContactForm(close: Callback<()>) -> impl IntoView {
    let create = ServerAction::<CreateContact>::new();
    let error = action_error(create);
    let kind = RwSignal::new(ContactKind::Person);
    // Sent by the page's code as JSON (no form-encoding library in the browser); the server's
    // answer opens the new contact.
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let form = event_target::<web_sys::HtmlFormElement>(&ev);
        let Ok(data) = web_sys::FormData::new_with_form(&form) else {
            return;
        };
        let text = |name: &str| data.get(name).as_string();
        create.dispatch(CreateContact {
            kind: text("kind").unwrap_or_default(),
            first_name: text("first_name"),
            last_name: text("last_name"),
            business_name: text("business_name"),
        });
    };
    let l = use_locale();
    view! {
        <form on:submit=submit>
            <fieldset class="choice">
                <legend>{l.t("Type", "Tipo")}</legend>
                <label>
                    <input type="radio" name="kind" value="person" checked=true
                        on:change=move |_| kind.set(ContactKind::Person)/>
                    {ContactKind::Person.label(l)}
                </label>
                <label>
                    <input type="radio" name="kind" value="company"
                        on:change=move |_| kind.set(ContactKind::Company)/>
                    {ContactKind::Company.label(l)}
                </label>
            </fieldset>
            // Both sets stay in the page (only hidden), so switching type never loses what was typed.
            <div hidden=move || kind.get() != ContactKind::Person>
                <TextField label=Field::FirstName.label(l) name="first_name" id="new-first-name"
                    autocomplete="off" autofocus=true error/>
                <TextField label=Field::LastName.label(l) name="last_name" id="new-last-name"
                    autocomplete="off" error/>
            </div>
            <div hidden=move || kind.get() != ContactKind::Company>
                <TextField label=Field::BusinessName.label(l) name="business_name" id="new-business-name"
                    autocomplete="off" error/>
            </div>
            <FormAlert error/>
            <div class="actions">
                <button type="button" on:click=move |_| close.run(())>{l.t("Cancel", "Annulla")}</button>
                <button type="submit" class="primary" disabled=move || create.pending().get()>
                    {l.t("Create contact", "Crea contatto")}
                </button>
            </div>
        </form>
    }
}

lazy_page!(
    /// The contact page as a lazily loaded route: its code (the card, field parsing, the
    /// time-zone list) reaches the browser only when a contact is first opened.
    ContactRoute => ContactPage, with screens_css
);

#[component]
pub fn ContactPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let id = Memo::new(move |_| {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    });
    let place = Memo::new(move |_| ListPlace::from_pairs(url_pairs(&location.search.read())));
    let cache = PrefetchCache::get();
    // The page's first contact, rendered on the server and hydrated; after that the contact
    // screen follows the URL itself (see `ContactScreen`'s `target`). Only a page that found
    // nothing fetches again when the URL changes.
    let data = json_resource(
        || (),
        move |_| {
            let (id, place) = (id.get_untracked(), place.get_untracked());
            async move {
                let Some(id) = id else {
                    return Err(AppError::NotFound);
                };
                cache.open(id, place).await
            }
        },
    );
    let context = json_resource(|| (), |_| super::load_card_context());
    let target = Signal::derive(move || (id.get(), place.get()));
    let retry_on_change = move || {
        Effect::new(move |first: Option<()>| {
            target.track();
            if first.is_some() {
                data.refetch();
            }
        });
    };
    let back = move || format!("/contacts{}", place.read().list.to_query_string());
    let l = use_locale();
    view! {
        <p class="back"><a href=back>{l.t("← Contacts", "← Contatti")}</a></p>
        <Transition fallback=move || view! { <p class="loading">{l.t("Loading…", "Caricamento…")}</p> }>
            {move || Suspend::new(async move {
                match (data.await, context.await) {
                    (Ok(view), Ok(context)) => Either::Left(view! { <ContactScreen view context target/> }),
                    (_, Err(e)) => Either::Right(view! { <p class="alert" role="alert">{e.message(l)}</p> }.into_any()),
                    (Err(e), _) => {
                        retry_on_change();
                        Either::Right(match e {
                            AppError::NotFound => view! {
                                <Title text=l.t("Not found · Rubrica", "Non trovato · Rubrica")/>
                                <h1>{l.t("Contact not found", "Contatto non trovato")}</h1>
                                <p>
                                    {l.t(
                                        "It may have been deleted, or the link is wrong.",
                                        "Potrebbe essere stato eliminato, o il link è sbagliato.",
                                    )}
                                </p>
                            }
                            .into_any(),
                            e => view! { <p class="alert" role="alert">{e.message(l)}</p> }.into_any(),
                        })
                    }
                }
            })}
        </Transition>
    }
}

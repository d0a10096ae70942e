//! The contacts list, the **New contact** dialog and the (read-only, for now) contact page.

use leptos::{either::Either, html, prelude::*};
use leptos_meta::Title;
use leptos_router::{
    components::Form,
    hooks::{use_location, use_params_map, use_query_map},
};
use uuid::Uuid;

use super::{
    get_contact, list_contacts, Contact, ContactKind, ContactListPage, CreateContact, ListQuery,
    SortOrder,
};
use crate::{
    error::AppError,
    ui::{action_error, FormAlert, TextField},
};

/// "1000000" → "1,000,000".
fn group_thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 {
        format!("-{out}")
    } else {
        out
    }
}

#[component]
pub fn ContactsPage() -> impl IntoView {
    let query_map = use_query_map();
    let list_query = Memo::new(move |_| {
        let map = query_map.read();
        ListQuery::from_pairs(
            ["q", "sort", "after", "before"]
                .into_iter()
                .filter_map(|key| map.get(key).map(|value| (key, value))),
        )
    });
    let page = Resource::new(
        move || list_query.get(),
        |query| {
            list_contacts(
                Some(query.q),
                Some(query.sort.as_param().to_string()),
                query.after,
                query.before,
            )
        },
    );

    let submit_on_change = |ev: leptos::ev::Event| {
        if let Some(form) = event_target::<web_sys::HtmlSelectElement>(&ev).form() {
            let _ = form.request_submit();
        }
    };

    view! {
        <Title text="Contacts · Rubrica"/>
        <div class="page-head">
            <h1>"Contacts"</h1>
            <NewContactDialog/>
        </div>
        <Form method="GET" action="/contacts" attr:class="list-controls" attr:role="search">
            <input
                type="search"
                name="q"
                aria-label="Search contacts"
                placeholder="Name, email, phone or company"
                value=move || list_query.read().q.clone()
                prop:value=move || list_query.read().q.clone()
            />
            <label for="contacts-sort" class="visually-hidden">"Sort"</label>
            <select id="contacts-sort" name="sort" on:change=submit_on_change>
                {SortOrder::ALL
                    .into_iter()
                    .map(|order| {
                        view! {
                            <option
                                value=order.as_param()
                                selected=move || list_query.read().sort == order
                            >
                                {order.label()}
                            </option>
                        }
                    })
                    .collect_view()}
            </select>
            <button type="submit">"Search"</button>
        </Form>
        <Transition fallback=|| view! { <p class="loading">"Loading contacts…"</p> }>
            {move || Suspend::new(async move {
                let query = list_query.get_untracked();
                match page.await {
                    Ok(result) => Either::Left(view! { <ContactList result query/> }),
                    Err(e) => Either::Right(view! { <p class="alert" role="alert">{e.to_string()}</p> }),
                }
            })}
        </Transition>
    }
}

#[component]
fn ContactList(result: ContactListPage, query: ListQuery) -> impl IntoView {
    let searching = !query.q.trim().is_empty();
    let count = match (result.total, searching) {
        (n, true) if result.total_is_lower_bound => {
            format!("More than {} contacts match", group_thousands(n))
        }
        (1, true) => "1 contact matches".to_string(),
        (n, true) => format!("{} contacts match", group_thousands(n)),
        (1, false) => "1 contact".to_string(),
        (n, false) => format!("{} contacts", group_thousands(n)),
    };
    // Opening a contact carries the list along, so the contact page can step through it.
    let list_qs = query.first_page().to_query_string();
    let empty = result.items.is_empty().then(|| {
        let message = if searching {
            format!("No contacts match “{}”.", query.q.trim())
        } else {
            "No contacts yet. Create the first one with New contact.".to_string()
        };
        view! { <p class="empty-state">{message}</p> }
    });
    let page_link = |after: Option<String>, before: Option<String>| {
        format!(
            "/contacts{}",
            ListQuery {
                after,
                before,
                ..query.first_page()
            }
            .to_query_string()
        )
    };
    let previous = result.previous.map(
        |cursor| view! { <a href=page_link(None, Some(cursor)) rel="prev">"Previous page"</a> },
    );
    let next = result
        .next
        .map(|cursor| view! { <a href=page_link(Some(cursor), None) rel="next">"Next page"</a> });
    view! {
        <p class="count" role="status">{count}</p>
        {empty}
        <ul class="contact-list">
            {result
                .items
                .into_iter()
                .map(|c| {
                    let details = [c.business_name.filter(|_| c.kind == ContactKind::Person), c.email, c.phone, c.city]
                        .into_iter()
                        .flatten()
                        .collect::<Vec<_>>()
                        .join(" · ");
                    view! {
                        <li>
                            <a href=format!("/contacts/{}{}", c.id, list_qs)>{c.display_name}</a>
                            <span class="kind">{c.kind.label()}</span>
                            <span class="details">{details}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <nav class="pager" aria-label="Pages">{previous}{next}</nav>
    }
}

#[component]
fn NewContactDialog() -> impl IntoView {
    let dialog = NodeRef::<html::Dialog>::new();
    let create = ServerAction::<CreateContact>::new();
    let error = action_error(create);
    let kind = RwSignal::new(ContactKind::Person);
    let open = move |_| {
        if let Some(dialog) = dialog.get() {
            let _ = dialog.show_modal();
        }
    };
    let close = move |_| {
        if let Some(dialog) = dialog.get() {
            dialog.close();
        }
    };
    view! {
        <button type="button" class="primary" on:click=open>"New contact"</button>
        <dialog node_ref=dialog class="dialog" aria-labelledby="new-contact-title">
            <h2 id="new-contact-title">"New contact"</h2>
            <ActionForm action=create>
                <fieldset class="choice">
                    <legend>"Type"</legend>
                    <label>
                        <input type="radio" name="kind" value="person" checked=true
                            on:change=move |_| kind.set(ContactKind::Person)/>
                        "Person"
                    </label>
                    <label>
                        <input type="radio" name="kind" value="company"
                            on:change=move |_| kind.set(ContactKind::Company)/>
                        "Company"
                    </label>
                </fieldset>
                // Both sets stay in the page (only hidden), so switching type never loses what was typed.
                <div hidden=move || kind.get() != ContactKind::Person>
                    <TextField label="First name" name="first_name" id="new-first-name"
                        autocomplete="off" error/>
                    <TextField label="Last name" name="last_name" id="new-last-name"
                        autocomplete="off" error/>
                </div>
                <div hidden=move || kind.get() != ContactKind::Company>
                    <TextField label="Business name" name="business_name" id="new-business-name"
                        autocomplete="off" error/>
                </div>
                <FormAlert error/>
                <div class="actions">
                    <button type="button" on:click=close>"Cancel"</button>
                    <button type="submit" class="primary" disabled=move || create.pending().get()>
                        "Create contact"
                    </button>
                </div>
            </ActionForm>
        </dialog>
    }
}

#[component]
pub fn ContactPage() -> impl IntoView {
    let params = use_params_map();
    let location = use_location();
    let id = move || {
        params
            .read()
            .get("id")
            .and_then(|s| Uuid::parse_str(&s).ok())
    };
    let contact = Resource::new(id, |id| async move {
        match id {
            Some(id) => get_contact(id).await,
            None => Err(AppError::NotFound),
        }
    });
    let back = move || format!("/contacts{}", location.search.get());
    view! {
        <p class="back"><a href=back>"← Contacts"</a></p>
        <Transition fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match contact.await {
                    Ok(contact) => Either::Left(view! { <ContactCard contact/> }),
                    Err(AppError::NotFound) => Either::Right(view! {
                        <Title text="Not found · Rubrica"/>
                        <h1>"Contact not found"</h1>
                        <p>"It may have been deleted, or the link is wrong."</p>
                    }.into_any()),
                    Err(e) => Either::Right(view! { <p class="alert" role="alert">{e.to_string()}</p> }.into_any()),
                }
            })}
        </Transition>
    }
}

/// A folder's name and its fields as (label, value) pairs.
type Folder = (&'static str, Vec<(&'static str, Option<String>)>);

/// The standard fields, folder by folder.
fn folders(c: &Contact) -> Vec<Folder> {
    vec![
        (
            "Contact",
            vec![
                ("First name", c.first_name.clone()),
                ("Last name", c.last_name.clone()),
                ("Email", c.email.clone()),
                ("Phone", c.phone.clone()),
                (
                    "Date of birth",
                    c.date_of_birth.map(|d| d.format("%d/%m/%Y").to_string()),
                ),
                ("Contact source", c.contact_source.clone()),
                ("Contact type", c.contact_type.clone()),
            ],
        ),
        (
            "General Info",
            vec![
                ("Business name", c.business_name.clone()),
                ("Street address", c.street_address.clone()),
                ("City", c.city.clone()),
                ("Country", c.country.clone()),
                ("State", c.state.clone()),
                ("Postal code", c.postal_code.clone()),
                ("Website", c.website.clone()),
                ("Time zone", c.time_zone.clone()),
            ],
        ),
        (
            "Additional Info",
            vec![
                ("Role", c.role.clone()),
                ("Gender", c.gender.clone()),
                ("Lead status", c.lead_status.clone()),
                ("UTM source", c.utm_source.clone()),
                ("UTM medium", c.utm_medium.clone()),
                ("UTM campaign", c.utm_campaign.clone()),
            ],
        ),
    ]
}

#[component]
fn ContactCard(contact: Contact) -> impl IntoView {
    let when = |t: chrono::DateTime<chrono::Utc>| t.format("%d/%m/%Y %H:%M UTC").to_string();
    let company = contact
        .business_name
        .clone()
        .filter(|_| contact.kind == ContactKind::Person);
    let sections = folders(&contact)
        .into_iter()
        .enumerate()
        .map(|(i, (folder, fields))| {
            let heading_id = format!("folder-{i}");
            let labelled_by = heading_id.clone();
            view! {
                <section class="folder" role="group" aria-labelledby=labelled_by>
                    <h2 id=heading_id>{folder}</h2>
                    <dl>
                        {fields
                            .into_iter()
                            .map(|(label, value)| {
                                let empty = value.is_none();
                                view! {
                                    <div class="field-row" class:empty=empty>
                                        <dt>{label}</dt>
                                        <dd>{value.unwrap_or_else(|| "—".to_string())}</dd>
                                    </div>
                                }
                            })
                            .collect_view()}
                    </dl>
                </section>
            }
        })
        .collect_view();
    view! {
        <Title text=format!("{} · Rubrica", contact.display_name)/>
        <header class="contact-head">
            <h1>{contact.display_name.clone()}</h1>
            <p class="meta">
                <span class="kind">{contact.kind.label()}</span>
                {company.map(|c| view! { <span>{c}</span> })}
            </p>
            <p class="dates">
                {format!("Created {} · Updated {}", when(contact.created_at), when(contact.updated_at))}
            </p>
        </header>
        <div class="card">{sections}</div>
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn big_numbers_are_grouped() {
        assert_eq!(super::group_thousands(0), "0");
        assert_eq!(super::group_thousands(999), "999");
        assert_eq!(super::group_thousands(1000), "1,000");
        assert_eq!(super::group_thousands(1_000_000), "1,000,000");
    }
}

//! The contact page's header: owner and followers, tags, who may see the contact, and Do Not
//! Disturb. Each change is saved at once (no Save needed) and recorded in the contact's history.
//!
//! The owner and the visibility are changed by an admin or the owner (anyone with access, while
//! the contact has no owner); followers, tags and DND by anyone who may see the contact.

use leptos::{ev, prelude::*, server_fn::codec::Json, task::spawn_local};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{Dnd, DndChannel, Visibility};
use crate::{
    error::{AppError, AppResult},
    i18n::Locale,
    tags::{ContactTag, TagChip},
    team::{Member, MemberStatus},
};

/// Who owns and follows a contact, and who may see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPeople {
    pub owner_id: Option<Uuid>,
    pub followers: Vec<Uuid>,
    pub visibility: Visibility,
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::contacts::{
        store::{self, Viewer},
        Contact,
    };

    /// The contact, if the signed-in user may see it.
    pub async fn contact(id: Uuid) -> AppResult<(Viewer, Contact)> {
        let viewer = store::viewer()?;
        let contact = store::get_visible(&crate::state::db(), &viewer, id).await?;
        Ok((viewer, contact))
    }

    /// Only an admin or the owner reassigns a contact or changes who may see it; a contact
    /// without an owner is anyone's to claim.
    pub fn may_manage(viewer: &Viewer, contact: &Contact) -> AppResult<()> {
        let allowed = viewer.sees_everything()
            || contact.owner_id.is_none()
            || contact.owner_id == Some(viewer.user.id);
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden)
        }
    }

    pub async fn people(id: Uuid) -> AppResult<ContactPeople> {
        let db = crate::state::db();
        let contact = store::get(&db, id).await?.ok_or(AppError::NotFound)?;
        Ok(ContactPeople {
            owner_id: contact.owner_id,
            followers: store::followers(&db, id).await?,
            visibility: contact.visibility,
        })
    }
}

/// Makes `owner_id` the contact's owner (or leaves it without one), and tells the new owner by
/// email.
#[server(input = Json)]
pub async fn set_owner(contact_id: Uuid, owner_id: Option<Uuid>) -> AppResult<ContactPeople> {
    let (viewer, contact) = ssr::contact(contact_id).await?;
    ssr::may_manage(&viewer, &contact)?;
    let state = crate::state::app_state();
    super::store::set_owner(&state.db, &viewer.user, &contact, owner_id).await?;
    if let Some(owner) = owner_id.filter(|o| Some(*o) != contact.owner_id && *o != viewer.user.id) {
        // The change is saved; the email follows on its own, and a mail server that is down never
        // undoes or delays it.
        let by = viewer.user.name.clone();
        let (name, link) = (
            contact.display_name.clone(),
            state.mail.link(&format!("/contacts/{contact_id}")),
        );
        let page_locale = crate::i18n::request_locale();
        tokio::spawn(async move {
            let Some(mailer) = state.mail.mailer.clone() else {
                return;
            };
            match crate::team::store::contact_details(&state.db, owner).await {
                Ok((to_name, to_email, locale)) => {
                    let mail = crate::mail::Mail::new_owner(
                        locale.unwrap_or(page_locale),
                        &to_name,
                        &by,
                        &name,
                        &link,
                    );
                    let _ = mailer.send(&to_name, &to_email, &mail).await;
                }
                Err(e) => tracing::warn!(error = %e, "no owner to notify"),
            }
        });
    }
    ssr::people(contact_id).await
}

#[server(input = Json)]
pub async fn add_follower(contact_id: Uuid, user_id: Uuid) -> AppResult<ContactPeople> {
    let (viewer, contact) = ssr::contact(contact_id).await?;
    super::store::add_follower(&crate::state::db(), &viewer.user, &contact, user_id).await?;
    ssr::people(contact_id).await
}

#[server(input = Json)]
pub async fn remove_follower(contact_id: Uuid, user_id: Uuid) -> AppResult<ContactPeople> {
    let (viewer, contact) = ssr::contact(contact_id).await?;
    super::store::remove_follower(&crate::state::db(), &viewer.user, &contact, user_id).await?;
    ssr::people(contact_id).await
}

/// Shares the contact with the team (`team`) or keeps it to its owner and followers (`private`).
#[server(input = Json)]
pub async fn set_visibility(contact_id: Uuid, visibility: String) -> AppResult<ContactPeople> {
    let visibility = Visibility::parse(&visibility)
        .ok_or_else(|| AppError::invalid("visibility", crate::error::Problem::NotInList))?;
    let (viewer, contact) = ssr::contact(contact_id).await?;
    ssr::may_manage(&viewer, &contact)?;
    super::store::set_visibility(&crate::state::db(), &viewer.user, &contact, visibility).await?;
    ssr::people(contact_id).await
}

/// Turns Do Not Disturb on or off for one channel (`all`, `email`, `sms`, `whatsapp`, `calls`,
/// `inbound`).
#[server(input = Json)]
pub async fn set_dnd(contact_id: Uuid, channel: String, on: bool) -> AppResult<Dnd> {
    let channel = DndChannel::parse(&channel)
        .ok_or_else(|| AppError::invalid("dnd", crate::error::Problem::NotInList))?;
    let (viewer, contact) = ssr::contact(contact_id).await?;
    let db = crate::state::db();
    super::store::set_dnd(&db, &viewer.user, &contact, channel, on).await?;
    Ok(super::store::get(&db, contact_id)
        .await?
        .ok_or(AppError::NotFound)?
        .dnd)
}

/// What the header shows and changes, shared by its parts.
#[derive(Clone, Copy)]
pub struct HeaderState {
    pub contact_id: RwSignal<Uuid>,
    pub people: RwSignal<ContactPeople>,
    pub tags: RwSignal<Vec<ContactTag>>,
    pub dnd: RwSignal<Dnd>,
    /// The team, for choosing owners and followers.
    pub members: Signal<Vec<Member>>,
    /// Every tag of the team, for type-ahead.
    pub all_tags: RwSignal<Vec<crate::tags::Tag>>,
    pub me: Uuid,
    pub admin: bool,
    /// The last refusal, shown next to the part it is about.
    pub error: RwSignal<Option<(&'static str, AppError)>>,
    pub l: Locale,
}

impl HeaderState {
    fn name_of(self, id: Uuid) -> String {
        self.members.with(|m| {
            m.iter()
                .find(|m| m.id == id)
                .map(|m| m.name.clone())
                .unwrap_or_default()
        })
    }

    fn may_manage(self) -> bool {
        let owner = self.people.with(|p| p.owner_id);
        self.admin || owner.is_none() || owner == Some(self.me)
    }

    /// Runs a change; its answer updates the header, a refusal shows next to `part`.
    fn run<T: 'static>(
        self,
        part: &'static str,
        call: impl std::future::Future<Output = AppResult<T>> + 'static,
        done: impl FnOnce(T) + 'static,
    ) {
        spawn_local(async move {
            match call.await {
                Ok(value) => {
                    self.error.set(None);
                    done(value);
                }
                Err(e) => self.error.set(Some((part, e))),
            }
        });
    }

    fn error_for(self, part: &'static str) -> impl Fn() -> Option<String> {
        move || {
            self.error.with(|e| match e {
                Some((p, e)) if *p == part => Some(e.message(self.l)),
                _ => None,
            })
        }
    }
}

/// Owner, followers and visibility.
#[component]
pub fn PeopleSection(state: HeaderState) -> impl IntoView {
    let l = state.l;
    let active = move || {
        state.members.with(|m| {
            m.iter()
                .filter(|m| m.status == MemberStatus::Active)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let owner_value = move || {
        state
            .people
            .with(|p| p.owner_id.map(|id| id.to_string()).unwrap_or_default())
    };
    let on_owner = move |ev: ev::Event| {
        let value = event_target_value(&ev);
        let owner = Uuid::parse_str(&value).ok();
        let id = state.contact_id.get_untracked();
        state.run("owner", set_owner(id, owner), move |p| state.people.set(p));
    };
    let on_visibility = move |ev: ev::Event| {
        let value = event_target_value(&ev);
        let id = state.contact_id.get_untracked();
        state.run("visibility", set_visibility(id, value), move |p| {
            state.people.set(p)
        });
    };
    let on_follow = move |ev: ev::Event| {
        let value = event_target_value(&ev);
        let Ok(user) = Uuid::parse_str(&value) else {
            return;
        };
        let id = state.contact_id.get_untracked();
        state.run("followers", add_follower(id, user), move |p| {
            state.people.set(p)
        });
    };
    let candidates = move || {
        let (owner, followers) = state.people.with(|p| (p.owner_id, p.followers.clone()));
        active()
            .into_iter()
            .filter(|m| Some(m.id) != owner && !followers.contains(&m.id))
            .collect::<Vec<_>>()
    };
    let owner_error = state.error_for("owner");
    let followers_error = state.error_for("followers");
    let visibility_error = state.error_for("visibility");
    view! {
        <div class="people">
            <div class="people-field">
                <label for="contact-owner">{l.t("Owner", "Proprietario")}</label>
                <select id="contact-owner" prop:value=owner_value on:change=on_owner
                    disabled=move || !state.may_manage()>
                    <option value="">{l.t("Unassigned", "Non assegnato")}</option>
                    {move || {
                        let owner = state.people.with(|p| p.owner_id);
                        let mut people = active();
                        // A disabled owner stays shown until someone else takes over.
                        if let Some(owner) = owner.filter(|o| !people.iter().any(|m| m.id == *o)) {
                            people.push(Member {
                                id: owner,
                                name: state.name_of(owner),
                                email: String::new(),
                                is_admin: false,
                                status: MemberStatus::Disabled,
                            });
                        }
                        people
                            .into_iter()
                            .map(|m| {
                                let id = m.id.to_string();
                                view! {
                                    <option value=id.clone() selected=move || owner_value() == id>{m.name}</option>
                                }
                            })
                            .collect_view()
                    }}
                </select>
                {move || owner_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <div class="people-field">
                <label for="contact-visibility">{l.t("Visibility", "Visibilità")}</label>
                <select id="contact-visibility" on:change=on_visibility
                    prop:value=move || state.people.with(|p| p.visibility.as_str())
                    disabled=move || !state.may_manage()>
                    {[Visibility::Team, Visibility::Private]
                        .into_iter()
                        .map(|v| view! {
                            <option value=v.as_str()
                                selected=move || state.people.with(|p| p.visibility == v)>
                                {v.label(l)}
                            </option>
                        })
                        .collect_view()}
                </select>
                {move || visibility_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
            <div class="people-field followers">
                <span class="people-label" id="followers-label">{l.t("Followers", "Follower")}</span>
                <ul class="chips" aria-labelledby="followers-label">
                    {move || {
                        state
                            .people
                            .with(|p| p.followers.clone())
                            .into_iter()
                            .map(|follower| {
                                let name = state.name_of(follower);
                                let label = match l {
                                    Locale::En => format!("Remove follower {name}"),
                                    Locale::It => format!("Rimuovi follower {name}"),
                                };
                                let remove = move |_| {
                                    let id = state.contact_id.get_untracked();
                                    state.run("followers", remove_follower(id, follower), move |p| {
                                        state.people.set(p)
                                    });
                                };
                                view! {
                                    <li class="chip">
                                        {name}
                                        <button type="button" class="chip-remove" aria-label=label
                                            on:click=remove>"×"</button>
                                    </li>
                                }
                            })
                            .collect_view()
                    }}
                </ul>
                <label for="contact-add-follower" class="visually-hidden">{l.t("Add follower", "Aggiungi follower")}</label>
                <select id="contact-add-follower" prop:value="" on:change=on_follow>
                    <option value="">{l.t("Add follower…", "Aggiungi follower…")}</option>
                    {move || candidates()
                        .into_iter()
                        .map(|m| view! { <option value=m.id.to_string()>{m.name}</option> })
                        .collect_view()}
                </select>
                {move || followers_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
            </div>
        </div>
    }
}

/// The contact's tags, removable, and a type-ahead box that adds one (creating it if new).
#[component]
pub fn TagsSection(state: HeaderState) -> impl IntoView {
    let l = state.l;
    let typed = RwSignal::new(String::new());
    let add = move || {
        let name = typed.get_untracked();
        if name.trim().is_empty() {
            return;
        }
        let id = state.contact_id.get_untracked();
        state.run(
            "tags",
            crate::tags::add_contact_tag(id, name),
            move |tags| {
                // A tag made on the fly joins the type-ahead list.
                state.all_tags.update(|all| {
                    for t in &tags {
                        if !all.iter().any(|a| a.id == t.tag.id) {
                            all.push(t.tag.clone());
                        }
                    }
                });
                state.tags.set(tags);
                typed.set(String::new());
            },
        );
    };
    let on_key = move |ev: ev::KeyboardEvent| {
        if ev.key() == "Enter" {
            ev.prevent_default();
            add();
        }
    };
    let suggestions = move || {
        let on: Vec<Uuid> = state.tags.with(|t| t.iter().map(|t| t.tag.id).collect());
        state.all_tags.with(|all| {
            all.iter()
                .filter(|t| !on.contains(&t.id))
                .map(|t| t.name.clone())
                .collect::<Vec<_>>()
        })
    };
    let tags_error = state.error_for("tags");
    view! {
        <div class="tags-section">
            <span class="people-label" id="tags-label">{l.t("Tags", "Tag")}</span>
            <ul class="chips" aria-labelledby="tags-label">
                {move || state.tags.get().into_iter().map(|t| {
                    let tag_id = t.tag.id;
                    let remove = Callback::new(move |_| {
                        let id = state.contact_id.get_untracked();
                        state.run("tags", crate::tags::remove_contact_tag(id, tag_id), move |tags| {
                            state.tags.set(tags)
                        });
                    });
                    view! { <li><TagChip tag=t remove/></li> }
                }).collect_view()}
            </ul>
            <div class="tag-add">
                <label for="contact-add-tag" class="visually-hidden">{l.t("Add tag", "Aggiungi tag")}</label>
                <input id="contact-add-tag" type="text" list="tag-suggestions" autocomplete="off"
                    placeholder=l.t("Add tag…", "Aggiungi tag…")
                    prop:value=move || typed.get()
                    on:input=move |ev| typed.set(event_target_value(&ev))
                    on:keydown=on_key/>
                <datalist id="tag-suggestions">
                    {move || suggestions().into_iter().map(|name| view! { <option value=name></option> }).collect_view()}
                </datalist>
                <button type="button" on:click=move |_| add()>{l.t("Add", "Aggiungi")}</button>
            </div>
            {move || tags_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </div>
    }
}

/// Do Not Disturb: a summary that opens to one switch per channel.
#[component]
pub fn DndSection(state: HeaderState) -> impl IntoView {
    let l = state.l;
    let summary = move || {
        let blocked = state.dnd.get().blocked();
        let what = if blocked.is_empty() {
            l.t("Off", "Disattivo").to_string()
        } else {
            blocked
                .iter()
                .map(|c| c.label(l))
                .collect::<Vec<_>>()
                .join(", ")
        };
        match l {
            Locale::En => format!("Do not disturb: {what}"),
            Locale::It => format!("Non disturbare: {what}"),
        }
    };
    let dnd_error = state.error_for("dnd");
    view! {
        <details class="dnd" class:dnd-on=move || !state.dnd.get().blocked().is_empty()>
            <summary>{summary}</summary>
            <fieldset>
                <legend>{l.t("Do not disturb", "Non disturbare")}</legend>
                {DndChannel::ALL
                    .into_iter()
                    .map(|channel| {
                        let on_change = move |ev: ev::Event| {
                            let on = event_target_checked(&ev);
                            let id = state.contact_id.get_untracked();
                            state.run(
                                "dnd",
                                set_dnd(id, channel.key().to_string(), on),
                                move |dnd| state.dnd.set(dnd),
                            );
                        };
                        // Per-channel switches say what "all channels" already covers.
                        let covered = move || channel != DndChannel::All && state.dnd.with(|d| d.all);
                        view! {
                            <label class="check">
                                <input type="checkbox"
                                    prop:checked=move || state.dnd.with(|d| d.get(channel))
                                    disabled=covered
                                    on:change=on_change/>
                                {channel.label(l)}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            {move || dnd_error().map(|m| view! { <p class="field-error" role="alert">{m}</p> })}
        </details>
    }
}

//! The contact page once its data is here: header with previous/next through the list the user
//! came from, owner, followers, tags, visibility and DND (`header.rs`), the card of editable
//! fields — standard and custom — in the team's folders, with Hide empty fields and Search fields,
//! and the contact's history.
//!
//! Edits are kept as typed text per field until **Save**; they are checked as the user leaves a
//! field (the same [`Layout::parse`] the server runs), kept in `localStorage` so a reload or the
//! back button never loses them, and saved before moving to the previous or next contact.

use std::collections::HashMap;

use chrono::NaiveDate;
use leptos::{ev, prelude::*, task::spawn_local};
use leptos_meta::Title;
use leptos_router::hooks::use_navigate;
use uuid::Uuid;

use super::{
    apply_edit, get_contact,
    header::{ContactPeople, DndSection, HeaderState, PeopleSection, TagsSection},
    open_contact, remember_hide_empty_fields,
    standard::Control,
    time_zones::TIME_ZONES,
    update_contact, CardContext, Contact, ContactEdit, ContactKind, ContactView, ListPlace,
};
use crate::{
    audit::{contact_history, AuditEntry},
    conversations::ConversationPane,
    error::{AppError, Problem},
    fields::{AddFieldDialog, CardField, CustomField, FieldRef, FieldType, Layout, LayoutFolder},
    i18n::{use_locale, Locale},
    typed_before_hydration,
};

/// Contact pages fetched ahead of time (the neighbours of the one on screen), so that **Next**
/// shows the next card at once. Entries are used once and trusted for a minute.
#[derive(Clone, Copy)]
pub struct PrefetchCache(StoredValue<Vec<(Uuid, String, f64, ContactView)>>);

const PREFETCH_FRESH_MS: f64 = 60_000.0;

impl PrefetchCache {
    pub fn provide() {
        provide_context(PrefetchCache(StoredValue::new(Vec::new())));
    }

    pub fn get() -> PrefetchCache {
        use_context().unwrap_or_else(|| PrefetchCache(StoredValue::new(Vec::new())))
    }

    /// The contact page's data for `id` in the list `place`: from the pages fetched ahead when
    /// they have it, else from the server.
    pub async fn open(self, id: Uuid, place: ListPlace) -> Result<ContactView, AppError> {
        match self.take(id, &place) {
            Some(view) => Ok(view),
            None => open_contact(id, place.to_query_string()).await,
        }
    }

    fn take(self, id: Uuid, place: &ListPlace) -> Option<ContactView> {
        let key = place.to_query_string();
        let now = now_ms();
        self.0.try_update_value(|entries| {
            entries.retain(|(_, _, at, _)| now - at < PREFETCH_FRESH_MS);
            let i = entries
                .iter()
                .position(|(i, k, _, _)| *i == id && *k == key)?;
            Some(entries.swap_remove(i).3)
        })?
    }

    fn put(self, id: Uuid, place: &ListPlace, view: ContactView) {
        let key = place.to_query_string();
        let now = now_ms();
        self.0.update_value(|entries| {
            entries.retain(|(i, k, _, _)| !(*i == id && *k == key));
            entries.push((id, key, now, view));
        });
    }

    /// Forgets a contact after it changed, so no stale copy of it is shown.
    fn forget(self, id: Uuid) {
        self.0
            .update_value(|entries| entries.retain(|(i, ..)| *i != id));
    }

    /// Fetches the pages one step back and one step forward, unless already here.
    fn prefetch(self, view: &ContactView) {
        let steps = [(view.nav.previous, false), (view.nav.next, true)];
        for (target, forward) in steps {
            let Some(target) = target else { continue };
            let place = view.nav.place.step(forward);
            let key = place.to_query_string();
            let cached = self
                .0
                .with_value(|entries| entries.iter().any(|(i, k, ..)| *i == target && *k == key));
            if cached {
                continue;
            }
            spawn_local(async move {
                if let Ok(view) = open_contact(target, key).await {
                    self.put(target, &place, view);
                }
            });
        }
    }
}

/// Milliseconds since the epoch, by the browser's clock (0 on the server, which never caches).
fn now_ms() -> f64 {
    #[cfg(target_arch = "wasm32")]
    {
        js_sys::Date::now()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        0.0
    }
}

/// Today's date where the user is (dates of birth may not be after it).
fn today() -> NaiveDate {
    #[cfg(target_arch = "wasm32")]
    {
        let d = js_sys::Date::new_0();
        NaiveDate::from_ymd_opt(d.get_full_year() as i32, d.get_month() + 1, d.get_date())
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now()).date_naive()
    }
}

/// Everything the card's controls share.
#[derive(Clone, Copy)]
struct Card {
    /// The contact as last saved.
    contact: RwSignal<Contact>,
    /// What the user typed, per field, where it differs from the saved value.
    drafts: RwSignal<HashMap<FieldRef, String>>,
    /// Per-field problems: from checking in the browser, or from the server.
    errors: RwSignal<HashMap<FieldRef, Problem>>,
    /// The team's folders, fields and contact types.
    layout: RwSignal<Layout>,
    /// Bumped after every change to the contact, so its history is read again.
    changed: RwSignal<u32>,
    /// A problem with the save as a whole (conflict, network…).
    problem: RwSignal<Option<AppError>>,
    saving: RwSignal<bool>,
    /// "Saved", announced after a successful save until the next edit.
    saved: RwSignal<bool>,
    /// Some(choice) once decided; None while the page still follows the screen width (by CSS).
    hide_empty: RwSignal<Option<bool>>,
    filter: RwSignal<String>,
    cache: PrefetchCache,
    /// The page's language: Search fields matches labels as the user reads them.
    l: Locale,
}

fn draft_key(id: Uuid) -> String {
    format!("rubrica.contact-draft.{id}")
}

fn local_storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

impl Card {
    /// A custom field's definition, if it is still in the layout.
    fn custom(self, id: Uuid) -> Option<CustomField> {
        self.layout.with(|l| l.custom(id).cloned())
    }

    /// What the field's control holds for the saved value.
    fn shown(self, field: FieldRef) -> String {
        match field {
            FieldRef::Standard(field) => self.contact.with(|c| field.shown(c)),
            FieldRef::Custom(id) => {
                let stored = self.contact.with(|c| c.custom.get(&id).cloned());
                match (stored, self.custom(id)) {
                    (Some(stored), Some(custom)) => custom.shown(&stored, self.l),
                    (Some(stored), None) => stored,
                    (None, _) => String::new(),
                }
            }
        }
    }

    fn value(self, field: FieldRef) -> String {
        self.drafts
            .with(|d| d.get(&field).cloned())
            .unwrap_or_else(|| self.shown(field))
    }

    fn is_empty(self, field: FieldRef) -> bool {
        self.value(field).trim().is_empty() && self.shown(field).is_empty()
    }

    fn label(self, field: FieldRef) -> String {
        self.layout.with(|l| {
            l.field(field)
                .map(|f| f.field.label(self.l))
                .unwrap_or_default()
        })
    }

    fn edit(self, field: FieldRef, text: String) {
        let unchanged = text == self.shown(field);
        self.drafts.update(|d| {
            if unchanged {
                d.remove(&field);
            } else {
                d.insert(field, text);
            }
        });
        self.saved.set(false);
        // An error already showing goes away as soon as the text is right; a new one waits for
        // the user to leave the field.
        if self.errors.with_untracked(|e| e.contains_key(&field)) {
            self.check(field);
        }
        self.store_draft();
    }

    /// Checks one field as the server will, and shows or clears its error.
    fn check(self, field: FieldRef) {
        let text = self.value(field);
        let problem = self
            .layout
            .with_untracked(|l| l.parse(field, &text, today()).err());
        self.errors.update(|e| match problem {
            Some(problem) => {
                e.insert(field, problem);
            }
            None => {
                e.remove(&field);
            }
        });
    }

    /// The pending edits, in card order.
    fn changes(self) -> Vec<(FieldRef, String)> {
        self.drafts.with_untracked(|d| {
            self.layout.with_untracked(|l| {
                l.fields()
                    .map(|f| f.field.field_ref())
                    .filter_map(|f| d.get(&f).map(|text| (f, text.clone())))
                    .collect()
            })
        })
    }

    fn dirty(self) -> bool {
        self.drafts.with(|d| !d.is_empty())
    }

    /// Keeps the unsaved edits where a reload or the back button can find them.
    fn store_draft(self) {
        let Some(storage) = local_storage() else {
            return;
        };
        let (id, version) = self.contact.with_untracked(|c| (c.id, c.version));
        let changes = self.changes();
        if changes.is_empty() {
            let _ = storage.remove_item(&draft_key(id));
        } else if let Ok(json) = serde_json::to_string(&ContactEdit {
            id,
            version,
            changes,
        }) {
            let _ = storage.set_item(&draft_key(id), &json);
        }
    }

    /// Brings back edits left unsaved on an earlier visit. Returns whether there were any.
    fn restore_draft(self) -> bool {
        let id = self.contact.with_untracked(|c| c.id);
        let Some(json) = local_storage().and_then(|s| s.get_item(&draft_key(id)).ok().flatten())
        else {
            return false;
        };
        let Ok(edit) = serde_json::from_slice::<ContactEdit>(json.as_bytes()) else {
            return false;
        };
        let mut restored = false;
        for (field, text) in edit.changes {
            if text != self.shown(field) {
                self.drafts.update(|d| {
                    d.insert(field, text);
                });
                restored = true;
            }
        }
        restored
    }

    fn discard(self) {
        self.drafts.set(HashMap::new());
        self.errors.set(HashMap::new());
        self.problem.set(None);
        self.store_draft();
    }

    /// Saves the pending edits. `true` when nothing is left unsaved.
    async fn save(self) -> bool {
        let changes = self.changes();
        if changes.is_empty() {
            return true;
        }
        if self.saving.get_untracked() {
            return false;
        }
        let contact = self.contact.get_untracked();
        let checked = self
            .layout
            .with_untracked(|l| apply_edit(&contact, &changes, l, today()));
        if let Err(e) = checked {
            self.show_error(e);
            return false;
        }
        self.saving.set(true);
        let result = update_contact(ContactEdit {
            id: contact.id,
            version: contact.version,
            changes,
        })
        .await;
        self.saving.set(false);
        match result {
            Ok(saved) => {
                self.cache.forget(saved.id);
                self.contact.set(saved);
                self.discard();
                self.saved.set(true);
                self.changed.update(|n| *n += 1);
                true
            }
            Err(e) => {
                self.show_error(e);
                false
            }
        }
    }

    fn show_error(self, error: AppError) {
        match error {
            AppError::Invalid(list) => {
                let mut first = None;
                self.errors.update(|errors| {
                    for e in list {
                        if let Some(field) = FieldRef::from_key(&e.field) {
                            first = first.or(Some(field));
                            errors.insert(field, e.problem);
                        }
                    }
                });
                // Take the user to the first field to fix.
                if let Some(field) = first {
                    if let Some(el) = document().get_element_by_id(&control_id(field)) {
                        use wasm_bindgen::JsCast;
                        if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                            let _ = el.focus();
                        }
                    }
                }
                self.problem.set(None);
            }
            other => self.problem.set(Some(other)),
        }
    }

    /// After a conflict: shows the version someone else saved, keeping this user's edits on top.
    async fn load_latest(self) {
        let id = self.contact.with_untracked(|c| c.id);
        match get_contact(id).await {
            Ok(latest) => {
                self.contact.set(latest);
                let drafts = self.drafts.get_untracked();
                self.drafts.set(
                    drafts
                        .into_iter()
                        .filter(|(f, text)| *text != self.shown(*f))
                        .collect(),
                );
                self.problem.set(None);
                self.store_draft();
            }
            Err(e) => self.problem.set(Some(e)),
        }
    }

    /// Whether a field's row is out of sight: Search fields matches neither its name nor its
    /// folder's (searching a folder's name shows the whole folder), or it is empty while empty
    /// fields are hidden.
    fn row_hidden(self, field: FieldRef) -> bool {
        let filter = self.filter.with(|f| f.trim().to_lowercase());
        if !filter.is_empty()
            && !self.label(field).to_lowercase().contains(&filter)
            && !self.folder_label(field).to_lowercase().contains(&filter)
        {
            return true;
        }
        self.hide_empty.get() == Some(true) && self.is_empty(field)
    }

    /// The name of the folder a field is in.
    fn folder_label(self, field: FieldRef) -> String {
        self.layout.with(|layout| {
            layout
                .folders
                .iter()
                .find(|folder| folder.fields.iter().any(|f| f.field.field_ref() == field))
                .map(|folder| folder.label(self.l))
                .unwrap_or_default()
        })
    }
}

fn control_id(field: FieldRef) -> String {
    format!("field-{}", field.key())
}

/// Whether focus is in a place where typed letters are text, not shortcuts.
fn typing_in(target: Option<web_sys::EventTarget>) -> bool {
    use wasm_bindgen::JsCast;
    let Some(el) = target.and_then(|t| t.dyn_into::<web_sys::HtmlElement>().ok()) else {
        return false;
    };
    matches!(el.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT") || el.is_content_editable()
}

#[component]
pub fn ContactScreen(
    view: ContactView,
    /// The team's layout, people and tags: the same for every contact of the page.
    context: CardContext,
    /// The contact and list the URL asks for: when they change (Next, Previous, back, forward),
    /// their data is swapped into this screen rather than building a new one.
    #[prop(into)]
    target: Signal<(Option<Uuid>, ListPlace)>,
) -> impl IntoView {
    let cache = PrefetchCache::get();
    let ContactView {
        contact,
        tags,
        followers,
        nav,
        hide_empty_fields,
    } = view.clone();
    let l = use_locale();
    let header = HeaderState {
        contact_id: RwSignal::new(contact.id),
        people: RwSignal::new(ContactPeople {
            owner_id: contact.owner_id,
            followers,
            visibility: contact.visibility,
        }),
        tags: RwSignal::new(tags),
        dnd: RwSignal::new(contact.dnd),
        members: Signal::stored(context.members.clone()),
        all_tags: RwSignal::new(context.tags.clone()),
        me: context.me,
        admin: context.admin,
        error: RwSignal::new(None),
        l,
    };
    let card = Card {
        contact: RwSignal::new(contact),
        drafts: RwSignal::new(HashMap::new()),
        errors: RwSignal::new(HashMap::new()),
        layout: RwSignal::new(context.layout.clone()),
        changed: RwSignal::new(0),
        problem: RwSignal::new(None),
        saving: RwSignal::new(false),
        saved: RwSignal::new(false),
        hide_empty: RwSignal::new(hide_empty_fields),
        filter: RwSignal::new(String::new()),
        cache,
        l,
    };
    let nav = RwSignal::new(nav);
    // A change in the header is a change to the contact: its history is read again, and no stale
    // copy of it is kept ahead.
    Effect::new(move |first: Option<()>| {
        header.people.track();
        header.tags.track();
        header.dnd.track();
        if first.is_some() {
            card.changed.update(|n| *n += 1);
            cache.forget(header.contact_id.get_untracked());
        }
    });
    let restored = RwSignal::new(false);

    // Edits left unsaved on an earlier visit come back, and the neighbours are fetched ahead:
    // after the card has been painted, so that fetching them never delays showing this one.
    let arrived = move |view: &ContactView| {
        let back = card.restore_draft();
        if back != restored.get_untracked() {
            restored.set(back);
        }
        let view = view.clone();
        request_animation_frame(move || {
            set_timeout(move || cache.prefetch(&view), std::time::Duration::ZERO)
        });
    };
    // In the browser only: the width decides Hide empty fields when the user never chose.
    Effect::new(move |_| {
        untrack(|| {
            if card.hide_empty.get_untracked().is_none() {
                card.hide_empty.set(Some(is_narrow()));
            }
            arrived(&view);
        })
    });

    // Another contact of the list: from the prefetched pages when they have it, else from the
    // server. The card on screen takes its data; edits left on the one before are saved (Next,
    // Previous) or kept in localStorage (back, forward) for its next visit.
    // Only what changed is set: every signal set wakes the card's controls that read it.
    let show = move |view: ContactView| {
        header.contact_id.set(view.contact.id);
        header.people.set(ContactPeople {
            owner_id: view.contact.owner_id,
            followers: view.followers.clone(),
            visibility: view.contact.visibility,
        });
        header.tags.set(view.tags.clone());
        header.dnd.set(view.contact.dnd);
        header.error.set(None);
        card.contact.set(view.contact.clone());
        nav.set(view.nav.clone());
        if card.drafts.with_untracked(|d| !d.is_empty()) {
            card.drafts.set(HashMap::new());
        }
        if card.errors.with_untracked(|e| !e.is_empty()) {
            card.errors.set(HashMap::new());
        }
        if card.problem.with_untracked(Option::is_some) {
            card.problem.set(None);
        }
        if card.saved.get_untracked() {
            card.saved.set(false);
        }
        arrived(&view);
    };
    Effect::new(move |shown: Option<(Option<Uuid>, ListPlace)>| {
        let wanted = target.get();
        let on_screen = (
            Some(card.contact.with_untracked(|c| c.id)),
            nav.with_untracked(|n| n.place.clone()),
        );
        if shown.is_some() && wanted != on_screen {
            if let (Some(id), place) = wanted.clone() {
                spawn_local(async move {
                    let found = cache.open(id, place.clone()).await;
                    // Only if the user is still asking for it.
                    if target.get_untracked() != (Some(id), place) {
                        return;
                    }
                    match found {
                        Ok(view) => show(view),
                        Err(e) => card.problem.set(Some(e)),
                    }
                });
            }
        }
        wanted
    });

    let navigate = use_navigate();
    let go = {
        move |forward: bool| {
            let nav = nav.get_untracked();
            let target = if forward { nav.next } else { nav.previous };
            let Some(target) = target else { return };
            let url = format!(
                "/contacts/{target}{}",
                nav.place.step(forward).to_query_string()
            );
            let navigate = navigate.clone();
            spawn_local(async move {
                // Unsaved edits are saved first; if they can't be, the user stays to fix them.
                if card.save().await {
                    navigate(&url, Default::default());
                }
            });
        }
    };
    // Cloned into each handler rather than stored: the router's navigate function may not be
    // shared across threads, and the server renders this component on any of them.
    let (go_previous, go_next) = (go.clone(), go.clone());

    // j / k step through the list, except while typing; Ctrl+S / ⌘S saves.
    let keys = window_event_listener(ev::keydown, move |ev| {
        if ev.default_prevented() || ev.alt_key() {
            return;
        }
        let key = ev.key();
        if (ev.ctrl_key() || ev.meta_key()) && key == "s" {
            ev.prevent_default();
            spawn_local(async move {
                card.save().await;
            });
            return;
        }
        if ev.ctrl_key() || ev.meta_key() || typing_in(ev.target()) {
            return;
        }
        match key.as_str() {
            "j" => go(true),
            "k" => go(false),
            _ => {}
        }
    });
    // Leaving the site (reload, closing the tab) with unsaved edits asks first; the edits are in
    // localStorage anyway.
    let unload = window_event_listener(ev::beforeunload, move |ev| {
        if card.drafts.with_untracked(|d| !d.is_empty()) {
            ev.prevent_default();
        }
    });
    on_cleanup(move || {
        keys.remove();
        unload.remove();
    });

    let position = move || {
        nav.with(|nav| {
            let Some(of) = nav.place.of else {
                return String::new();
            };
            let total = format!(
                "{}{}",
                l.number(of.count as i64),
                if of.at_least { "+" } else { "" }
            );
            match (nav.place.pos.map(|p| l.number(p as i64)), l) {
                (Some(pos), Locale::En) => format!("{pos} of {total}"),
                (Some(pos), Locale::It) => format!("{pos} di {total}"),
                (None, Locale::En) => format!("{total} in this list"),
                (None, Locale::It) => format!("{total} in questo elenco"),
            }
        })
    };
    let has_previous = move || nav.with(|n| n.previous.is_some());
    let has_next = move || nav.with(|n| n.next.is_some());
    let title = move || {
        card.contact
            .with(|c| format!("{} · Rubrica", c.display_name))
    };

    view! {
        <Title text=title/>
        <header class="contact-head">
            <div class="stepper">
                // The visible word is part of the name (as WCAG's label-in-name asks), which says
                // what it steps through.
                <button type="button" disabled=move || !has_previous() aria-keyshortcuts="k"
                    aria-label=l.t("Previous contact", "Contatto precedente")
                    on:click=move |_| go_previous(false)>
                    <span aria-hidden="true">"‹ "</span>{l.t("Previous", "Precedente")}
                </button>
                <p class="position" role="status">{position}</p>
                <button type="button" disabled=move || !has_next() aria-keyshortcuts="j"
                    aria-label=l.t("Next contact", "Contatto successivo")
                    on:click=move |_| go_next(true)>
                    {l.t("Next", "Successivo")}<span aria-hidden="true">" ›"</span>
                </button>
            </div>
            <h1>{move || card.contact.with(|c| c.display_name.clone())}</h1>
            <ContactMeta card/>
            <PeopleSection state=header/>
            <TagsSection state=header/>
            <DndSection state=header/>
        </header>
        <Panes card restored admin=context.admin dnd=header.dnd
            sender=context.sender.clone() channels=context.channels.clone()/>
    }
}

/// The three parts of the contact page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pane {
    Details,
    Conversation,
    History,
}

impl Pane {
    const ALL: [Pane; 3] = [Pane::Details, Pane::Conversation, Pane::History];

    fn label(self, l: Locale) -> &'static str {
        match self {
            Pane::Details => l.t("Details", "Dettagli"),
            Pane::Conversation => l.t("Conversation", "Conversazione"),
            Pane::History => l.t("History", "Cronologia"),
        }
    }

    fn id(self) -> &'static str {
        match self {
            Pane::Details => "pane-details",
            Pane::Conversation => "pane-conversation",
            Pane::History => "pane-history",
        }
    }

    fn tab_id(self) -> &'static str {
        match self {
            Pane::Details => "tab-details",
            Pane::Conversation => "tab-conversation",
            Pane::History => "tab-history",
        }
    }
}

const NARROW: &str = "(max-width: 640px)";

fn is_narrow() -> bool {
    window()
        .match_media(NARROW)
        .ok()
        .flatten()
        .is_some_and(|m| m.matches())
}

/// Card, conversation and history side by side on a wide screen; tabs on a phone. The server
/// renders the wide layout (it can't know the width) and CSS shows only the card on a phone until
/// the page's code turns the three into tabs.
#[component]
fn Panes(
    card: Card,
    restored: RwSignal<bool>,
    admin: bool,
    dnd: RwSignal<super::Dnd>,
    /// The writer and the workspace, for merge fields; the channels set up.
    sender: crate::conversations::merge::Sender,
    channels: Vec<crate::conversations::Channel>,
) -> impl IntoView {
    let l = card.l;
    let narrow = RwSignal::new(false);
    let selected = RwSignal::new(Pane::Details);
    Effect::new(move |_| narrow.set(is_narrow()));
    let resize = window_event_listener(ev::resize, move |_| {
        let now = is_narrow();
        if now != narrow.get_untracked() {
            narrow.set(now);
        }
    });
    on_cleanup(move || resize.remove());

    let select = move |pane: Pane, focus: bool| {
        selected.set(pane);
        if focus {
            if let Some(el) = document().get_element_by_id(pane.tab_id()) {
                use wasm_bindgen::JsCast;
                if let Ok(el) = el.dyn_into::<web_sys::HtmlElement>() {
                    let _ = el.focus();
                }
            }
        }
    };
    // Arrow keys, Home and End move between tabs, as in every tab widget.
    let on_key = move |ev: ev::KeyboardEvent| {
        let i = Pane::ALL
            .iter()
            .position(|p| *p == selected.get_untracked())
            .unwrap_or(0);
        let next = match ev.key().as_str() {
            "ArrowRight" => (i + 1) % 3,
            "ArrowLeft" => (i + 2) % 3,
            "Home" => 0,
            "End" => 2,
            _ => return,
        };
        ev.prevent_default();
        select(Pane::ALL[next], true);
    };
    let tabs = move || {
        narrow.get().then(|| {
            view! {
                <div class="pane-tabs" role="tablist" on:keydown=on_key
                    aria-label=l.t("Contact sections", "Sezioni del contatto")>
                    {Pane::ALL
                        .into_iter()
                        .map(|pane| {
                            let is_selected = move || selected.get() == pane;
                            view! {
                                <button type="button" role="tab" id=pane.tab_id()
                                    aria-controls=pane.id()
                                    aria-selected=move || if is_selected() { "true" } else { "false" }
                                    tabindex=move || if is_selected() { "0" } else { "-1" }
                                    on:click=move |_| select(pane, false)>
                                    {pane.label(l)}
                                </button>
                            }
                        })
                        .collect_view()}
                </div>
            }
        })
    };
    let hidden = move |pane: Pane| narrow.get() && selected.get() != pane;
    let role = move |region: &'static str| if narrow.get() { "tabpanel" } else { region };
    let labelled_by = move |pane: Pane| narrow.get().then_some(pane.tab_id());
    let named = move |pane: Pane| (!narrow.get()).then_some(pane.label(l));
    // The conversation and the history are hydrated after the card, each in a main-thread task
    // of its own: starting the app and hydrating the whole page at once was one task of 70–100 ms,
    // which a phone spends blocked. Until its turn, each pane shows the server's HTML as an inert
    // copy (the same markup, so nothing moves), which its live version then replaces. Opened
    // from inside the app rather than by loading the page, they are built at once.
    let later = cfg!(feature = "ssr")
        || Owner::current_shared_context().is_some_and(|context| context.during_hydration());
    let conversation_live = RwSignal::new(!later);
    let history_live = RwSignal::new(!later);
    #[cfg(feature = "hydrate")]
    if later {
        let next_task = |then: Box<dyn FnOnce()>| set_timeout(then, std::time::Duration::ZERO);
        request_animation_frame(move || {
            next_task(Box::new(move || {
                conversation_live.set(true);
                next_task(Box::new(move || {
                    history_live.set(true);
                    // After the history's own task: the page is now wholly the app's.
                    next_task(Box::new(crate::mark_hydrated));
                }));
            }));
        });
    }
    // Conversation and History: regions beside the card, tab panels on a phone.
    let side_pane = move |pane: Pane, live: RwSignal<bool>, body: fn(PaneProps) -> AnyView| {
        let props = PaneProps {
            card,
            dnd,
            sender: sender.clone(),
            channels: channels.clone(),
        };
        // The server renders the pane into the copy; the browser keeps the server's copy as it is
        // while hydrating (it never writes inner HTML then).
        #[cfg(feature = "ssr")]
        let copy = body(props.clone()).to_html();
        #[cfg(not(feature = "ssr"))]
        let copy = String::new();
        let body = move || {
            if live.get() {
                body(props.clone())
            } else {
                view! { <div data-deferred inner_html=copy.clone()></div> }.into_any()
            }
        };
        view! {
            <section class=format!("pane {}", pane.id()) id=pane.id()
                role=move || role("region")
                aria-label=move || named(pane)
                aria-labelledby=move || labelled_by(pane)
                hidden=move || hidden(pane)>
                <h2>{pane.label(l)}</h2>
                {body}
            </section>
        }
    };
    view! {
        {tabs}
        <div class="contact-layout" class:tabbed=move || narrow.get()>
            <div class="pane pane-details" id=Pane::Details.id()
                role=move || narrow.get().then_some("tabpanel")
                aria-labelledby=move || labelled_by(Pane::Details)
                hidden=move || hidden(Pane::Details)>
                <CardView card restored admin/>
            </div>
            {side_pane(Pane::Conversation, conversation_live, |p| {
                view! {
                    <ConversationPane contact=p.card.contact dnd=p.dnd layout=p.card.layout
                        sender=p.sender channels=p.channels/>
                }
                .into_any()
            })}
            {side_pane(Pane::History, history_live, |p| view! { <History card=p.card/> }.into_any())}
        </div>
    }
}

/// What the panes beside the card are built from.
#[derive(Clone)]
struct PaneProps {
    card: Card,
    dnd: RwSignal<super::Dnd>,
    sender: crate::conversations::merge::Sender,
    channels: Vec<crate::conversations::Channel>,
}

/// The contact's audit log, newest first, a page at a time; read again after every change.
#[component]
fn History(card: Card) -> impl IntoView {
    let l = card.l;
    let entries = RwSignal::new(Vec::<AuditEntry>::new());
    let older = RwSignal::new(None::<i64>);
    let loaded = RwSignal::new(false);
    let problem = RwSignal::new(None::<AppError>);
    let load = move |id: Uuid, before: Option<i64>| {
        spawn_local(async move {
            match contact_history(id, before).await {
                Ok(page) => {
                    // Only if the card still shows that contact.
                    if card.contact.with_untracked(|c| c.id) != id {
                        return;
                    }
                    if before.is_some() {
                        entries.update(|e| e.extend(page.entries));
                    } else {
                        entries.set(page.entries);
                    }
                    older.set(page.older);
                    loaded.set(true);
                    problem.set(None);
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    // In the browser: the first page for the contact on screen, again after each change.
    Effect::new(move |_| {
        let id = card.contact.with(|c| c.id);
        card.changed.track();
        load(id, None);
    });
    let line = move |entry: &AuditEntry| {
        let layout = card.layout.get_untracked();
        let subject = entry.subject(l, &layout);
        let value = |v: &Option<String>| v.as_deref().map(|v| entry.value(v, l, &layout));
        let (old, new) = (value(&entry.old_value), value(&entry.new_value));
        use crate::audit::what;
        match (entry.field.as_str(), old, new) {
            (what::CREATED, _, _) => subject,
            (what::TAG | what::FOLLOWER, None, Some(new)) => match l {
                Locale::En => format!("{subject} added: {new}"),
                Locale::It => format!("{subject} aggiunto: {new}"),
            },
            (what::TAG | what::FOLLOWER, Some(old), None) => match l {
                Locale::En => format!("{subject} removed: {old}"),
                Locale::It => format!("{subject} rimosso: {old}"),
            },
            (_, None, Some(new)) => format!("{subject}: {new}"),
            (_, Some(old), None) => match l {
                Locale::En => format!("{subject}: {old} → (empty)"),
                Locale::It => format!("{subject}: {old} → (vuoto)"),
            },
            (_, Some(old), Some(new)) => format!("{subject}: {old} → {new}"),
            (_, None, None) => subject,
        }
    };
    view! {
        <ol class="history" aria-label=l.t("Changes", "Modifiche")>
            {move || entries.get().into_iter().map(|entry| {
                let who = entry
                    .actor_name
                    .clone()
                    .unwrap_or_else(|| l.t("Rubrica (automatic)", "Rubrica (automatico)").to_string());
                view! {
                    <li>
                        <p class="history-what">{line(&entry)}</p>
                        <p class="history-who">{who}" · "<time datetime=entry.at.to_rfc3339()>{l.date_time(entry.at)}</time></p>
                    </li>
                }
            }).collect_view()}
        </ol>
        {move || (loaded.get() && entries.with(Vec::is_empty)).then(|| view! {
            <p class="placeholder">{l.t(
                "Nothing has happened with this contact yet.",
                "Ancora nessuna attività con questo contatto.",
            )}</p>
        })}
        {move || problem.get().map(|e| view! { <p class="alert" role="alert">{e.message(l)}</p> })}
        {move || older.get().map(|before| view! {
            <button type="button" on:click=move |_| load(card.contact.with_untracked(|c| c.id), Some(before))>
                {l.t("Older changes", "Modifiche precedenti")}
            </button>
        })}
    }
}

#[component]
fn ContactMeta(card: Card) -> impl IntoView {
    let l = card.l;
    move || {
        card.contact.with(|c| {
            let company = c
                .business_name
                .clone()
                .filter(|_| c.kind == ContactKind::Person);
            view! {
                <p class="meta">
                    <span class="kind">{c.kind.label(l)}</span>
                    {company.map(|name| view! { <span>{name}</span> })}
                </p>
                <dl class="record">
                    <div><dt>{l.t("Created at", "Creato il")}</dt><dd>{l.date_time(c.created_at)}</dd></div>
                    <div><dt>{l.t("Updated at", "Aggiornato il")}</dt><dd>{l.date_time(c.updated_at)}</dd></div>
                    <div>
                        <dt>{l.t("Email subscription", "Iscrizione email")}</dt>
                        <dd>{super::subscription_label(l, &c.email_subscription)}</dd>
                    </div>
                </dl>
            }
        })
    }
}

#[component]
fn CardView(card: Card, restored: RwSignal<bool>, admin: bool) -> impl IntoView {
    let l = card.l;
    let on_hide_empty = move |ev: ev::Event| {
        let hide = event_target_checked(&ev);
        card.hide_empty.set(Some(hide));
        spawn_local(async move {
            // A preference that fails to save is not worth interrupting the user for.
            let _ = remember_hide_empty_fields(hide).await;
        });
    };
    // Built again only when the layout changes (a field added from here); a new contact keeps
    // the folders and only their values change.
    let folders = move || {
        card.layout
            .with(|l| l.folders.clone())
            .into_iter()
            .map(|folder| view! { <FolderView folder card/> })
            .collect_view()
    };
    let nothing_matches = move || {
        let all: Vec<FieldRef> = card
            .layout
            .with(|l| l.fields().map(|f| f.field.field_ref()).collect());
        all.into_iter().all(|f| card.row_hidden(f)) && card.filter.with(|f| !f.trim().is_empty())
    };
    let save = move |_| {
        spawn_local(async move {
            card.save().await;
        });
    };
    let load_latest = move |_| spawn_local(card.load_latest());
    let pending = move || card.drafts.with(|d| d.len());
    // The time-zone field's suggestions (300 options) are built when a field that offers them is
    // first focused, not with the page: with the Schedule dialog's list, half of the page's HTML.
    let zones_wanted = RwSignal::new(false);
    let on_focus = move |ev: ev::FocusEvent| {
        use wasm_bindgen::JsCast;
        let offers_zones = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
            .is_some_and(|e| e.get_attribute("list").as_deref() == Some("time-zones"));
        if offers_zones {
            zones_wanted.set(true);
        }
    };
    view! {
        <div class="card-tools">
            <label class="check">
                <input type="checkbox" checked={card.hide_empty.get_untracked() == Some(true)}
                    prop:checked=move || card.hide_empty.get() == Some(true)
                    on:change=on_hide_empty/>
                {l.t("Hide empty fields", "Nascondi campi vuoti")}
            </label>
            <input type="search" class="field-search" aria-label=l.t("Search fields", "Cerca campi")
                placeholder=l.t("Search fields", "Cerca campi")
                on:input=move |ev| card.filter.set(event_target_value(&ev))/>
            {admin.then(|| view! { <AddFieldDialog layout=card.layout/> })}
        </div>
        <datalist id="time-zones">
            {move || zones_wanted.get().then(|| {
                TIME_ZONES.iter().map(|zone| view! { <option value=*zone></option> }).collect_view()
            })}
        </datalist>
        <div class="card" class:hide-auto=move || card.hide_empty.get().is_none() on:focusin=on_focus>
            {folders}
            {move || nothing_matches().then(|| view! {
                <p class="empty-state">
                    {l.t("No field matches your search.", "Nessun campo corrisponde alla ricerca.")}
                </p>
            })}
        </div>
        <div class="save-bar" hidden=move || !card.dirty() && card.problem.with(Option::is_none)>
            {move || restored.get().then(|| view! {
                <p class="note">
                    {l.t(
                        "Your unsaved changes from before are back.",
                        "Le modifiche non salvate di prima sono state ripristinate.",
                    )}
                </p>
            })}
            {move || card.problem.get().map(|e| {
                let conflict = matches!(e, AppError::Conflict);
                view! {
                    <div class="alert" role="alert">
                        <p>{e.message(l)}</p>
                        {conflict.then(|| view! {
                            <button type="button" on:click=load_latest>
                                {l.t("Load their version", "Carica la loro versione")}
                            </button>
                        })}
                    </div>
                }
            })}
            <p class="pending">{move || match (pending(), l) {
                (0, _) => String::new(),
                (1, Locale::En) => "1 unsaved change".to_string(),
                (n, Locale::En) => format!("{n} unsaved changes"),
                (1, Locale::It) => "1 modifica non salvata".to_string(),
                (n, Locale::It) => format!("{n} modifiche non salvate"),
            }}</p>
            <button type="button" on:click=move |_| { card.discard(); restored.set(false); }>
                {l.t("Discard", "Scarta")}
            </button>
            <button type="button" class="primary" on:click=save
                disabled=move || card.saving.get()>
                {move || if card.saving.get() { l.t("Saving…", "Salvataggio…") } else { l.t("Save", "Salva") }}
            </button>
        </div>
        <p class="save-status" role="status">
            {move || card.saved.get().then_some(l.t("Saved", "Salvato"))}
        </p>
    }
}

/// One folder of the card, named by its heading; hidden when none of its fields shows.
#[component]
fn FolderView(folder: LayoutFolder, card: Card) -> impl IntoView {
    let l = card.l;
    let heading = folder.heading_id();
    let refs: Vec<FieldRef> = folder.fields.iter().map(|f| f.field.field_ref()).collect();
    let all_hidden = move || refs.iter().all(|f| card.row_hidden(*f));
    view! {
        <section class="folder" role="group" aria-labelledby=heading.clone() hidden=all_hidden>
            <h2 id=heading.clone()>{folder.label(l)}</h2>
            {folder
                .fields
                .into_iter()
                .map(|f| view! { <FieldRow field=f.field card/> })
                .collect_view()}
        </section>
    }
}

/// How a field is edited on the card.
enum Widget {
    Input {
        input_type: &'static str,
        input_mode: Option<&'static str>,
        placeholder: Option<&'static str>,
        list: Option<&'static str>,
    },
    TextArea,
    /// One of (value, label), or nothing.
    Select(Vec<(String, String)>),
    Checkbox,
    /// Any of these options.
    Multi(Vec<String>),
}

impl Widget {
    fn input(input_type: &'static str) -> Widget {
        Widget::Input {
            input_type,
            input_mode: None,
            placeholder: None,
            list: None,
        }
    }

    fn of(field: &CardField, layout: &Layout, l: Locale) -> Widget {
        let date = Widget::Input {
            input_type: "text",
            input_mode: Some("numeric"),
            placeholder: Some(l.t("dd/mm/yyyy", "gg/mm/aaaa")),
            list: None,
        };
        match field {
            CardField::Standard(standard) => match standard.control() {
                Control::Email => Widget::input("email"),
                Control::Tel => Widget::input("tel"),
                Control::Url => Widget::input("url"),
                Control::Date => date,
                Control::Choice(options) => Widget::Select(
                    options
                        .iter()
                        .map(|c| (c.value.to_string(), c.label(l).to_string()))
                        .collect(),
                ),
                Control::ContactType => Widget::Select(
                    layout
                        .contact_types
                        .iter()
                        .map(|t| (t.id.to_string(), t.label(l)))
                        .collect(),
                ),
                Control::TimeZone => Widget::Input {
                    input_type: "text",
                    input_mode: None,
                    placeholder: None,
                    list: Some("time-zones"),
                },
                Control::Text => Widget::input("text"),
            },
            CardField::Custom(custom) => match custom.field_type {
                FieldType::Text => Widget::input("text"),
                FieldType::LongText => Widget::TextArea,
                FieldType::Number => Widget::Input {
                    input_type: "text",
                    input_mode: Some("numeric"),
                    placeholder: None,
                    list: None,
                },
                FieldType::Decimal => Widget::Input {
                    input_type: "text",
                    input_mode: Some("decimal"),
                    placeholder: None,
                    list: None,
                },
                FieldType::Date => date,
                FieldType::DateTime => Widget::input("datetime-local"),
                FieldType::Checkbox => Widget::Checkbox,
                FieldType::SingleSelect => Widget::Select(
                    custom
                        .options
                        .iter()
                        .map(|o| (o.clone(), o.clone()))
                        .collect(),
                ),
                FieldType::MultiSelect => Widget::Multi(custom.options.clone()),
                FieldType::Email => Widget::input("email"),
                FieldType::Phone => Widget::input("tel"),
                FieldType::Url => Widget::input("url"),
            },
        }
    }
}

#[component]
fn FieldRow(field: CardField, card: Card) -> impl IntoView {
    let l = card.l;
    let field_ref = field.field_ref();
    let label = field.label(l);
    let id = control_id(field_ref);
    let name = field_ref.key();
    let error_id = format!("{id}-error");
    let value = move || card.value(field_ref);
    let error = move || card.errors.with(|e| e.get(&field_ref).map(|p| p.text(l)));
    let invalid = move || error().map(|_| "true");
    let described_by = {
        let error_id = error_id.clone();
        move || error().map(|_| error_id.clone())
    };
    let on_input = move |ev: ev::Event| card.edit(field_ref, event_target_value(&ev));
    let on_change = move |_| card.check(field_ref);
    let widget = card
        .layout
        .with_untracked(|layout| Widget::of(&field, layout, l));
    // Typed before the page's code had loaded: an edit like any other.
    {
        let id = id.clone();
        Effect::new(move |_| {
            if let Some(text) = typed_before_hydration(&id) {
                untrack(|| {
                    card.edit(field_ref, text);
                    card.check(field_ref);
                });
            }
        });
    }
    let error_view =
        move || error().map(|m| view! { <p class="field-error" id=error_id.clone()>{m}</p> });
    let row_class = move || {
        let mut class = String::from("field-row");
        if card.is_empty(field_ref) {
            class.push_str(" empty");
        }
        if card.drafts.with(|d| d.contains_key(&field_ref)) {
            class.push_str(" edited");
        }
        class
    };
    if let Widget::Multi(options) = widget {
        // A group of checkboxes named by the field; the value is the chosen options, one per line.
        let chosen = move || -> Vec<String> {
            value()
                .lines()
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let all = options.clone();
        let boxes = options
            .into_iter()
            .enumerate()
            .map(|(i, option)| {
                let box_id = format!("{id}-{i}");
                let all = all.clone();
                let this = option.clone();
                let toggle = move |ev: ev::Event| {
                    let on = event_target_checked(&ev);
                    let mut now = chosen();
                    now.retain(|o| *o != this);
                    if on {
                        now.push(this.clone());
                    }
                    let text = all
                        .iter()
                        .filter(|o| now.contains(o))
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("\n");
                    card.edit(field_ref, text);
                    card.check(field_ref);
                };
                let checked = {
                    let option = option.clone();
                    move || chosen().contains(&option)
                };
                view! {
                    <label class="check" for=box_id.clone()>
                        <input type="checkbox" id=box_id.clone() name=name.clone() prop:checked=checked on:change=toggle/>
                        {option}
                    </label>
                }
            })
            .collect_view();
        return view! {
            <fieldset class=move || format!("{} multi", row_class()) id=id.clone()
                aria-invalid=invalid aria-describedby=described_by
                hidden=move || card.row_hidden(field_ref)>
                <legend>{label}</legend>
                <div class="multi-options">{boxes}</div>
                {error_view}
            </fieldset>
        }
        .into_any();
    }
    let control = match widget {
        Widget::Select(options) => view! {
            <select id=id.clone() name=name prop:value=value
                aria-invalid=invalid aria-describedby=described_by
                on:change=move |ev| { card.edit(field_ref, event_target_value(&ev)); card.check(field_ref); }>
                <option value="">"—"</option>
                {options
                    .into_iter()
                    .map(|(stored, shown)| {
                        let is = stored.clone();
                        view! {
                            <option value=stored selected=move || value() == is>{shown}</option>
                        }
                    })
                    .collect_view()}
            </select>
        }
        .into_any(),
        Widget::Checkbox => view! {
            <input id=id.clone() name=name type="checkbox" class="checkbox"
                checked=card.value(field_ref) == "true"
                prop:checked=move || value() == "true"
                aria-invalid=invalid aria-describedby=described_by
                on:change=move |ev| {
                    let text = if event_target_checked(&ev) { "true" } else { "" };
                    card.edit(field_ref, text.to_string());
                    card.check(field_ref);
                }/>
        }
        .into_any(),
        Widget::TextArea => view! {
            <textarea id=id.clone() name=name rows="3" prop:value=value
                aria-invalid=invalid aria-describedby=described_by
                on:input=on_input on:change=on_change>{card.value(field_ref)}</textarea>
        }
        .into_any(),
        Widget::Input { input_type, input_mode, placeholder, list } => view! {
            <input id=id.clone() name=name type=input_type inputmode=input_mode
                autocomplete="off" placeholder=placeholder list=list
                value=card.value(field_ref) prop:value=value
                aria-invalid=invalid aria-describedby=described_by
                on:input=on_input on:change=on_change/>
        }
        .into_any(),
        Widget::Multi(_) => unreachable!("handled above"),
    };
    view! {
        <div class=row_class hidden=move || card.row_hidden(field_ref)>
            <label for=id>{label}</label>
            {control}
            {error_view}
        </div>
    }
    .into_any()
}

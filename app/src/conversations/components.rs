//! The Conversation pane of the contact page: the thread (every channel, newest at the bottom,
//! each message with its status), a filter by channel, and the composer — send now, or schedule
//! at a time in a time zone. Statuses change on screen without a reload: the thread is read again
//! every few seconds while the tab is visible, and at once when it becomes visible again.

use leptos::{ev, html, prelude::*, task::spawn_local};
use uuid::Uuid;

use super::{
    attachments::Attachment,
    cancel_scheduled, conversation, edit_scheduled, mark_conversation,
    merge::Sender,
    preview_schedule, schedule_message, send_message, send_scheduled_now,
    tools::{self, ComposerTools, MergePreview, Slash, SlashSuggestions, ToolsState},
    Channel, Direction, Draft, Message, MessageStatus, SchedulePreview, THREAD_PAGE,
};
use crate::{
    contacts::{time_zones::TIME_ZONES, Contact, Dnd},
    error::AppError,
    fields::Layout,
    i18n::{use_locale, Locale},
};

/// How often the thread is read again while shown.
#[cfg(feature = "hydrate")]
const POLL_MS: u32 = 3000;

fn draft_key(contact: Uuid) -> String {
    format!("rubrica.message-draft.{contact}")
}

fn storage() -> Option<web_sys::Storage> {
    window().local_storage().ok().flatten()
}

/// The time zone of the browser (the user's own), e.g. `Europe/Rome`.
fn browser_zone() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let options =
            js_sys::Intl::DateTimeFormat::new(&js_sys::Array::new(), &js_sys::Object::new())
                .resolved_options();
        js_sys::Reflect::get(&options, &"timeZone".into())
            .ok()
            .and_then(|z| z.as_string())
            .unwrap_or_else(|| "UTC".to_string())
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        "Europe/Rome".to_string()
    }
}

/// An hour from now on the browser's clock, as `<input type="datetime-local">` wants it.
fn in_an_hour() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        let d = js_sys::Date::new_0();
        d.set_time(d.get_time() + 3_600_000.0);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}",
            d.get_full_year(),
            d.get_month() + 1,
            d.get_date(),
            d.get_hours(),
            d.get_minutes()
        )
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        String::new()
    }
}

/// `YYYY-MM-DDTHH:MM` as people read it.
fn wall_clock(l: Locale, local: &str) -> String {
    match chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M") {
        Ok(t) => format!("{} {}", l.date(t.date()), t.format("%H:%M")),
        Err(_) => local.to_string(),
    }
}

#[component]
pub fn ConversationPane(
    /// The contact on screen (it changes with Previous / Next).
    #[prop(into)]
    contact: Signal<Contact>,
    /// Its Do Not Disturb, as the header keeps it.
    #[prop(into)]
    dnd: Signal<Dnd>,
    /// The card's layout: the custom fields merge fields can name.
    #[prop(into)]
    layout: Signal<Layout>,
    /// The writer and the workspace, for merge fields.
    sender: Sender,
    /// The channels set up (email with SMTP, SMS and WhatsApp with their provider).
    channels: Vec<Channel>,
) -> impl IntoView {
    let l = use_locale();
    let contact_id = Memo::new(move |_| contact.with(|c| c.id));
    let messages = RwSignal::new(Vec::<Message>::new());
    let loaded = RwSignal::new(false);
    let filter = RwSignal::new(None::<Channel>);
    let load_error = RwSignal::new(None::<AppError>);
    // How many of the newest messages are asked for, and whether older ones exist.
    let shown = RwSignal::new(THREAD_PAGE);
    let earlier = RwSignal::new(false);
    let reload = move || {
        let (id, channel, count) = (
            contact_id.get_untracked(),
            filter.get_untracked(),
            shown.get_untracked(),
        );
        spawn_local(async move {
            let result =
                conversation(id, channel.map(|c| c.as_str().to_string()), Some(count)).await;
            // Only for the contact, filter and length still on screen.
            if contact_id.get_untracked() != id
                || filter.get_untracked() != channel
                || shown.get_untracked() != count
            {
                return;
            }
            match result {
                Ok(thread) => {
                    if messages.with_untracked(|m| *m != thread.messages) {
                        messages.set(thread.messages);
                    }
                    earlier.set(thread.earlier);
                    loaded.set(true);
                    load_error.set(None);
                }
                Err(e) => load_error.set(Some(e)),
            }
        });
    };
    // In the browser: the thread for the contact and filter shown, read again while visible.
    Effect::new(move |_| {
        contact_id.track();
        filter.track();
        shown.set(THREAD_PAGE);
        earlier.set(false);
        loaded.set(false);
        reload();
    });
    let show_earlier = move |_| {
        shown.update(|n| *n += THREAD_PAGE);
        reload();
    };
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let visible = || document().visibility_state() == web_sys::VisibilityState::Visible;
        let interval = gloo_timers::callback::Interval::new(POLL_MS, move || {
            if visible() {
                reload();
            }
        });
        let shown = window_event_listener(ev::visibilitychange, move |_| {
            if visible() {
                reload();
            }
        });
        let interval = send_wrapper::SendWrapper::new(interval);
        on_cleanup(move || {
            drop(interval);
            shown.remove();
        });
    });

    let composer = Composer::new(contact, dnd, layout, sender, channels, l);
    // After a contact change, the composer shows that contact's own draft.
    Effect::new(move |_| {
        let id = contact_id.get();
        untrack(|| {
            composer.restore(id);
            // Typed into the server's copy of the composer before its code took over (see
            // `contacts::card`'s panes): kept, as if typed here.
            let mut typed = false;
            for (control, text) in [
                ("composer-subject", composer.subject),
                ("composer-body", composer.body),
            ] {
                if let Some(value) = crate::typed_before_hydration(control) {
                    text.set(value);
                    typed = true;
                }
            }
            if typed {
                composer.store();
            }
        });
    });
    let sent = Callback::new(move |_| reload());

    let on_filter = move |ev: ev::Event| filter.set(Channel::parse(&event_target_value(&ev)));
    view! {
        <div class="conversation-tools">
            <label for="conversation-filter">{l.t("Show", "Mostra")}</label>
            <select id="conversation-filter" on:change=on_filter>
                <option value="">{l.t("All channels", "Tutti i canali")}</option>
                {Channel::ALL.into_iter().map(|c| view! { <option value=c.as_str()>{c.label(l)}</option> }).collect_view()}
            </select>
            {move || {
                let (unread, replies) = messages.with(|m| (
                    m.iter().filter(|m| !m.read).count(),
                    m.iter().any(|m| m.direction == Direction::In),
                ));
                replies.then(|| {
                    let mark = move |read: bool| {
                        let id = contact_id.get_untracked();
                        spawn_local(async move {
                            match mark_conversation(id, read).await {
                                Ok(()) => reload(),
                                Err(e) => load_error.set(Some(e)),
                            }
                        });
                    };
                    if unread > 0 {
                        view! {
                            <span class="unread-count">{match l {
                                Locale::En => format!("{unread} unread"),
                                Locale::It => format!("{unread} da leggere"),
                            }}</span>
                            <button type="button" on:click=move |_| mark(true)>{l.t("Mark as read", "Segna come letto")}</button>
                        }.into_any()
                    } else {
                        view! {
                            <button type="button" on:click=move |_| mark(false)>{l.t("Mark as unread", "Segna come da leggere")}</button>
                        }.into_any()
                    }
                })
            }}
        </div>
        {move || earlier.get().then(|| view! {
            <button type="button" class="earlier-messages" on:click=show_earlier>
                {l.t("Show earlier messages", "Mostra i messaggi precedenti")}
            </button>
        })}
        <ol class="thread" aria-label=l.t("Messages", "Messaggi")>
            <For each=move || messages.get() key=|m| (m.id, m.status, m.subject.clone(), m.body.clone(), m.send_at, m.read) let:message>
                <MessageItem message composer reload=sent/>
            </For>
        </ol>
        {move || (loaded.get() && messages.with(Vec::is_empty)).then(|| view! {
            <p class="placeholder">{l.t(
                "No messages with this contact yet.",
                "Ancora nessun messaggio con questo contatto.",
            )}</p>
        })}
        {move || load_error.get().map(|e| view! { <p class="alert" role="alert">{e.message(l)}</p> })}
        <ComposerForm composer sent/>
    }
}

#[component]
fn MessageItem(message: Message, composer: Composer, reload: Callback<()>) -> impl IntoView {
    let l = use_locale();
    let problem = RwSignal::new(None::<AppError>);
    let id = message.id;
    let act = move |call: std::pin::Pin<
        Box<dyn std::future::Future<Output = Result<Message, AppError>>>,
    >| {
        spawn_local(async move {
            match call.await {
                Ok(_) => {
                    problem.set(None);
                    reload.run(());
                }
                Err(e) => problem.set(Some(e)),
            }
        });
    };
    let who = match message.direction {
        Direction::In => l.t("From the contact", "Dal contatto").to_string(),
        Direction::Out => message
            .author_name
            .clone()
            .unwrap_or_else(|| "Rubrica".to_string()),
    };
    let when = match (message.status, &message.send_at_local, &message.send_zone) {
        (MessageStatus::Scheduled, Some(local), Some(zone)) => match l {
            Locale::En => format!("for {} ({zone})", wall_clock(l, local)),
            Locale::It => format!("per il {} ({zone})", wall_clock(l, local)),
        },
        _ => l.date_time(message.sent_at.unwrap_or(message.created_at)),
    };
    let failure = message.failure_text(l).filter(|_| {
        matches!(
            message.status,
            MessageStatus::Failed | MessageStatus::Sending
        )
    });
    let waiting = message.is_waiting();
    let for_edit = message.clone();
    view! {
        <li class=format!("message {}", if message.direction == Direction::In { "in" } else { "out" })>
            <p class="message-meta">
                <span class="channel">{message.channel.label(l)}</span>
                " · "<span>{who}</span>" · "<span>{when}</span>
            </p>
            {message.subject.clone().map(|s| view! { <p class="message-subject">{s}</p> })}
            <p class="message-body">{message.body.clone()}</p>
            {(!message.attachments.is_empty()).then(|| view! {
                <ul class="attachments" aria-label=l.t("Attachments", "Allegati")>
                    {message.attachments.iter().map(|file| view! {
                        <li class="attachment"><a href=file.href() download>{file.label(l)}</a></li>
                    }).collect_view()}
                </ul>
            })}
            {(!message.read).then(|| view! { <p class="unread">{l.t("Unread", "Da leggere")}</p> })}
            <p class=format!("message-status {}", message.status.css())>
                {message.status.label(l)}
                {failure.map(|f| view! { <span class="failure">{format!(" — {f}")}</span> })}
            </p>
            {waiting.then(|| view! {
                <div class="message-actions">
                    <button type="button" on:click=move |_| composer.edit(for_edit.clone())>
                        {l.t("Edit scheduled message", "Modifica messaggio programmato")}
                    </button>
                    <button type="button" on:click=move |_| act(Box::pin(send_scheduled_now(id)))>
                        {l.t("Send now", "Invia ora")}
                    </button>
                    <button type="button" class="danger" on:click=move |_| act(Box::pin(cancel_scheduled(id)))>
                        {l.t("Cancel scheduled message", "Annulla messaggio programmato")}
                    </button>
                </div>
            })}
            {move || problem.get().map(|e| view! { <p class="field-error" role="alert">{e.message(l)}</p> })}
        </li>
    }
}

/// What waits for the writer's go-ahead: merge fields are empty for this contact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pending {
    Send,
    Schedule,
}

/// The composer's state, shared by its form, the Schedule dialog and "Edit scheduled message".
#[derive(Clone, Copy)]
struct Composer {
    contact: Signal<Contact>,
    dnd: Signal<Dnd>,
    layout: Signal<Layout>,
    sender: StoredValue<Sender>,
    /// The channels set up.
    channels: StoredValue<Vec<Channel>>,
    channel: RwSignal<Channel>,
    subject: RwSignal<String>,
    body: RwSignal<String>,
    attachments: RwSignal<Vec<Attachment>>,
    /// The scheduled message being edited, if any.
    editing: RwSignal<Option<Uuid>>,
    /// The Schedule dialog's time and zone.
    local: RwSignal<String>,
    zone: RwSignal<String>,
    error: RwSignal<Option<AppError>>,
    pending: RwSignal<bool>,
    /// Merge fields are empty for this contact: the writer is asked before it goes.
    confirm: RwSignal<Option<(Pending, Vec<String>)>>,
    dialog: NodeRef<html::Dialog>,
    /// Whether the Schedule dialog is open: its list of every time zone (300 options) is only
    /// built then, not with the page.
    scheduling: RwSignal<bool>,
    tools: ToolsState,
    l: Locale,
}

impl Composer {
    fn new(
        contact: Signal<Contact>,
        dnd: Signal<Dnd>,
        layout: Signal<Layout>,
        sender: Sender,
        channels: Vec<Channel>,
        l: Locale,
    ) -> Composer {
        let channel = RwSignal::new(Channel::Email);
        let subject = RwSignal::new(String::new());
        let body = RwSignal::new(String::new());
        let attachments = RwSignal::new(Vec::new());
        let error = RwSignal::new(None);
        let changed = RwSignal::new(None::<Callback<()>>);
        let tools = ToolsState {
            contact_id: Signal::derive(move || contact.with(|c| c.id)),
            channel,
            subject,
            body,
            attachments,
            textarea: NodeRef::new(),
            open: RwSignal::new(None),
            snippets: RwSignal::new(None),
            problem: error,
            changed: Callback::new(move |_| {
                if let Some(changed) = changed.get_untracked() {
                    changed.run(());
                }
            }),
        };
        let composer = Composer {
            contact,
            dnd,
            layout,
            sender: StoredValue::new(sender),
            channels: StoredValue::new(channels),
            channel,
            subject,
            body,
            attachments,
            editing: RwSignal::new(None),
            local: RwSignal::new(String::new()),
            zone: RwSignal::new(String::new()),
            error,
            pending: RwSignal::new(false),
            confirm: RwSignal::new(None),
            dialog: NodeRef::new(),
            scheduling: RwSignal::new(false),
            tools,
            l,
        };
        changed.set(Some(Callback::new(move |_| composer.store())));
        composer
    }

    fn draft(self) -> Draft {
        Draft {
            channel: self.channel.get_untracked(),
            subject: self.subject.get_untracked(),
            body: self.body.get_untracked(),
            attachments: self.attachments.get_untracked(),
        }
    }

    fn contact_id(self) -> Uuid {
        self.contact.with_untracked(|c| c.id)
    }

    fn set_up(self, channel: Channel) -> bool {
        self.channels.with_value(|c| c.contains(&channel))
    }

    /// Keeps what is being written where a reload or another contact's visit can't lose it.
    fn store(self) {
        self.confirm.set(None);
        if self.editing.get_untracked().is_some() {
            return;
        }
        let Some(storage) = storage() else { return };
        let draft = self.draft();
        let key = draft_key(self.contact_id());
        if draft.subject.trim().is_empty()
            && draft.body.trim().is_empty()
            && draft.attachments.is_empty()
        {
            let _ = storage.remove_item(&key);
        } else if let Ok(json) = serde_json::to_string(&draft) {
            let _ = storage.set_item(&key, &json);
        }
    }

    fn restore(self, contact: Uuid) {
        self.editing.set(None);
        self.error.set(None);
        self.confirm.set(None);
        let draft = storage()
            .and_then(|s| s.get_item(&draft_key(contact)).ok().flatten())
            .and_then(|json| serde_json::from_slice::<Draft>(json.as_bytes()).ok());
        let draft = draft.unwrap_or_else(|| Draft {
            channel: self.usual_channel(),
            subject: String::new(),
            body: String::new(),
            attachments: Vec::new(),
        });
        self.channel.set(draft.channel);
        self.subject.set(draft.subject);
        self.body.set(draft.body);
        self.attachments.set(draft.attachments);
    }

    /// Email if the contact has an address (and email is set up), else SMS, else WhatsApp.
    fn usual_channel(self) -> Channel {
        let (email, phone) = self
            .contact
            .with_untracked(|c| (c.email.is_some(), c.phone.is_some()));
        [
            (Channel::Email, email),
            (Channel::Sms, phone),
            (Channel::WhatsApp, phone),
        ]
        .into_iter()
        .find(|(channel, address)| *address && self.set_up(*channel))
        .map_or(Channel::Email, |(channel, _)| channel)
    }

    fn cleared(self) {
        self.subject.set(String::new());
        self.body.set(String::new());
        self.attachments.set(Vec::new());
        self.editing.set(None);
        self.error.set(None);
        self.store();
    }

    /// Loads a scheduled message into the composer and opens the Schedule dialog on its time.
    fn edit(self, message: Message) {
        self.editing.set(Some(message.id));
        self.channel.set(message.channel);
        self.subject.set(message.subject.unwrap_or_default());
        self.body.set(message.body);
        self.attachments.set(message.attachments);
        if let (Some(local), Some(zone)) = (message.send_at_local, message.send_zone) {
            self.local.set(local);
            self.zone.set(zone);
        }
        self.error.set(None);
        self.open_schedule();
    }

    fn open_schedule(self) {
        if self.local.with_untracked(String::is_empty) {
            self.local.set(in_an_hour());
        }
        if self.zone.with_untracked(String::is_empty) {
            self.zone.set(browser_zone());
        }
        self.scheduling.set(true);
        if let Some(dialog) = self.dialog.get_untracked() {
            let _ = dialog.show_modal();
        }
    }

    fn close_schedule(self) {
        if let Some(dialog) = self.dialog.get_untracked() {
            dialog.close();
        }
    }

    fn problem(self, field: &'static str) -> impl Fn() -> Option<String> + Copy {
        move || {
            self.error
                .with(|e| e.as_ref().and_then(|e| e.field_problem(field)))
                .map(|p| p.text(self.l))
        }
    }

    /// The merge fields of the draft empty for this contact (by their menu names).
    fn empty_fields(self) -> Vec<String> {
        let draft = self.draft();
        let subject = (draft.channel == Channel::Email).then_some(draft.subject.as_str());
        self.contact.with_untracked(|c| {
            self.layout.with_untracked(|layout| {
                self.sender
                    .with_value(|s| tools::preview(c, layout, s, subject, &draft.body, self.l).2)
            })
        })
    }

    /// Checks the draft before `action`: problems are shown, and empty merge fields asked about
    /// (unless `anyway`). Answers whether to go on.
    fn ready(self, action: Pending, anyway: bool) -> bool {
        if let Err(e) = self.draft().check() {
            self.error.set(Some(e));
            return false;
        }
        self.error.set(None);
        let empty = self.empty_fields();
        if !anyway && !empty.is_empty() {
            self.confirm.set(Some((action, empty)));
            return false;
        }
        self.confirm.set(None);
        true
    }
}

#[component]
fn ComposerForm(composer: Composer, sent: Callback<()>) -> impl IntoView {
    let l = composer.l;
    let c = composer;
    let t = c.tools;
    let blocked = move |channel: Channel| c.dnd.with(|d| d.blocks(channel.dnd()));
    let send_now = move |anyway: bool| {
        if !c.ready(Pending::Send, anyway) {
            return;
        }
        c.pending.set(true);
        let (id, draft) = (c.contact_id(), c.draft());
        spawn_local(async move {
            let result = send_message(id, draft).await;
            c.pending.set(false);
            match result {
                Ok(_) => {
                    c.cleared();
                    sent.run(());
                }
                Err(e) => c.error.set(Some(e)),
            }
        });
    };
    let schedule = move |anyway: bool| {
        if c.ready(Pending::Schedule, anyway) {
            c.open_schedule();
        }
    };
    let general = move || {
        c.error.with(|e| match e {
            Some(AppError::Invalid(list))
                if list.iter().all(|f| {
                    [
                        "subject",
                        "body",
                        "channel",
                        "send_at",
                        "zone",
                        "attachments",
                    ]
                    .contains(&f.field.as_str())
                }) =>
            {
                None
            }
            Some(e) => Some(e.message(l)),
            None => None,
        })
    };
    let subject_error = c.problem("subject");
    let body_error = c.problem("body");
    let channel_error = c.problem("channel");
    let files_error = c.problem("attachments");
    // A `/name` typed in the message offers the snippets of that name.
    let slash = RwSignal::new(None::<Slash>);
    let selected = RwSignal::new(0usize);
    let on_body_input = move |ev: ev::Event| {
        c.body.set(event_target_value(&ev));
        c.store();
        let caret = t
            .textarea
            .get_untracked()
            .and_then(|a| a.selection_start().ok().flatten());
        let found = caret.and_then(|caret| c.body.with_untracked(|b| tools::slash_at(b, caret)));
        if found.is_some() {
            t.load_snippets();
        }
        if found.as_ref().map(|s| &s.query) != slash.get_untracked().as_ref().map(|s| &s.query) {
            selected.set(0);
        }
        slash.set(found);
    };
    let on_body_key = move |ev: ev::KeyboardEvent| {
        let Some(open) = slash.get_untracked() else {
            return;
        };
        let count = t.snippets.with_untracked(|list| {
            list.as_ref().map_or(0, |l| {
                l.iter().filter(|s| s.matches(&open.query)).take(6).count()
            })
        });
        if count == 0 {
            return;
        }
        match ev.key().as_str() {
            "ArrowDown" => {
                ev.prevent_default();
                selected.update(|i| *i = (*i + 1) % count);
            }
            "ArrowUp" => {
                ev.prevent_default();
                selected.update(|i| *i = (*i + count - 1) % count);
            }
            "Enter" | "Tab" => {
                if let Some(snippet) = tools::slash_choice(t, &open, selected.get_untracked()) {
                    ev.prevent_default();
                    slash.set(None);
                    t.use_snippet(&snippet, Some((open.start, open.end)));
                }
            }
            "Escape" => {
                ev.prevent_default();
                slash.set(None);
            }
            _ => {}
        }
    };
    // Not a <form>: its tools hold forms of their own (save a snippet), and a form inside a form
    // is dropped by the browser's HTML parser, so the server's page and the app's would differ and
    // hydration fail. It also means Enter in the subject or a tool's search box never sends.
    view! {
        <div class="composer" role="group" aria-label=l.t("New message", "Nuovo messaggio")>
            {move || c.editing.get().map(|_| view! {
                <p class="note">
                    {l.t("Editing a scheduled message.", "Stai modificando un messaggio programmato.")}
                    " "
                    <button type="button" on:click=move |_| c.cleared()>{l.t("Stop editing", "Interrompi")}</button>
                </p>
            })}
            <fieldset class="choice channels" role="radiogroup" aria-describedby="composer-channel-error">
                <legend>{l.t("Channel", "Canale")}</legend>
                {Channel::ALL.into_iter().map(|channel| view! {
                    <label>
                        <input type="radio" name="channel" value=channel.as_str()
                            prop:checked=move || c.channel.get() == channel
                            disabled=!c.set_up(channel)
                            on:change=move |_| { c.channel.set(channel); c.error.set(None); c.store(); }/>
                        {channel.label(l)}
                        {(!c.set_up(channel)).then(|| view! {
                            <span class="dnd-note">{l.t(" (not set up)", " (non configurato)")}</span>
                        })}
                        {move || blocked(channel).then(|| view! {
                            <span class="dnd-note">{l.t(" (do not disturb)", " (non disturbare)")}</span>
                        })}
                    </label>
                }).collect_view()}
            </fieldset>
            <p class="field-error" id="composer-channel-error">{channel_error}</p>
            <div class="field" hidden=move || c.channel.get() != Channel::Email>
                <label for="composer-subject">{l.t("Subject", "Oggetto")}</label>
                <input id="composer-subject" type="text" prop:value=move || c.subject.get()
                    on:input=move |ev| { c.subject.set(event_target_value(&ev)); c.store(); }
                    aria-invalid=move || subject_error().map(|_| "true")
                    aria-describedby="composer-subject-error"/>
                <p class="field-error" id="composer-subject-error">{subject_error}</p>
            </div>
            <ComposerTools tools=t layout=c.layout/>
            <p class="field-error" id="composer-files-error" aria-live="polite">{files_error}</p>
            <div class="field">
                <label for="composer-body">{l.t("Message", "Messaggio")}</label>
                <textarea id="composer-body" rows="4" node_ref=t.textarea prop:value=move || c.body.get()
                    on:input=on_body_input
                    on:keydown=on_body_key
                    on:blur=move |_| slash.set(None)
                    aria-invalid=move || body_error().map(|_| "true")
                    aria-describedby="composer-body-error composer-body-hint"></textarea>
                <p class="note" id="composer-body-hint">{l.t(
                    "Type / and a name to insert a snippet.",
                    "Scrivi / e un nome per inserire un modello.",
                )}</p>
                <SlashSuggestions tools=t slash selected/>
                <p class="field-error" id="composer-body-error">{body_error}</p>
            </div>
            <MergePreview contact=c.contact layout=c.layout sender=c.sender.get_value() tools=t/>
            {move || general().map(|m| view! { <p class="alert" role="alert">{m}</p> })}
            {move || c.confirm.get().map(|(action, empty)| view! {
                <div class="confirm" role="alertdialog" aria-label=l.t("Empty fields", "Campi vuoti")>
                    <p>{match l {
                        Locale::En => format!("These fields are empty for this contact and will be left out: {}.", empty.join(", ")),
                        Locale::It => format!("Questi campi sono vuoti per questo contatto e verranno omessi: {}.", empty.join(", ")),
                    }}</p>
                    <button type="button" on:click=move |_| c.confirm.set(None)>{l.t("Keep editing", "Continua a scrivere")}</button>
                    <button type="button" class="primary" on:click=move |_| match action {
                        Pending::Send => send_now(true),
                        Pending::Schedule => schedule(true),
                    }>
                        {match action {
                            Pending::Send => l.t("Send anyway", "Invia comunque"),
                            Pending::Schedule => l.t("Schedule anyway", "Programma comunque"),
                        }}
                    </button>
                </div>
            })}
            <div class="actions">
                <button type="button" on:click=move |_| schedule(false)>{l.t("Schedule", "Programma")}</button>
                <button type="button" class="primary"
                    disabled=move || c.pending.get() || c.editing.get().is_some()
                    on:click=move |_| send_now(false)>
                    {l.t("Send", "Invia")}
                </button>
            </div>
        </div>
        <ScheduleDialog composer sent/>
    }
}

#[component]
fn ScheduleDialog(composer: Composer, sent: Callback<()>) -> impl IntoView {
    let l = composer.l;
    let c = composer;
    let user_zone = browser_zone();
    let preview = RwSignal::new(None::<Result<SchedulePreview, AppError>>);
    // The preview follows the time and zone as they are picked.
    let user_zone_for_preview = user_zone.clone();
    Effect::new(move |_| {
        let (local, zone) = (c.local.get(), c.zone.get());
        if local.is_empty() || zone.is_empty() {
            return;
        }
        let user_zone = user_zone_for_preview.clone();
        spawn_local(async move {
            let result = preview_schedule(local.clone(), zone.clone(), user_zone).await;
            if c.local.get_untracked() == local && c.zone.get_untracked() == zone {
                preview.set(Some(result));
            }
        });
    });
    let confirm = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        c.pending.set(true);
        let (draft, local, zone) = (c.draft(), c.local.get_untracked(), c.zone.get_untracked());
        let contact = c.contact_id();
        let editing = c.editing.get_untracked();
        spawn_local(async move {
            let result = match editing {
                Some(id) => edit_scheduled(id, draft, local, zone).await,
                None => schedule_message(contact, draft, local, zone).await,
            };
            c.pending.set(false);
            match result {
                Ok(_) => {
                    c.close_schedule();
                    c.cleared();
                    sent.run(());
                }
                Err(e) => {
                    let about_the_draft = ["subject", "body", "channel", "attachments"]
                        .iter()
                        .any(|f| e.field_problem(f).is_some());
                    c.error.set(Some(e));
                    if about_the_draft {
                        c.close_schedule();
                    }
                }
            }
        });
    };
    let contact_zone = move || c.contact.with(|ct| ct.time_zone.clone());
    let send_at_error = move || {
        c.problem("send_at")()
            .or_else(|| c.problem("zone")())
            .or_else(|| {
                preview.with(|p| match p {
                    Some(Err(e)) => Some(e.message(l)),
                    _ => None,
                })
            })
    };
    let shown = move || {
        preview.with(|p| match p {
            Some(Ok(p)) => {
                let when = wall_clock(l, &p.in_user_zone);
                let mut text = match l {
                    Locale::En => format!("It goes out on {when}, your time."),
                    Locale::It => format!("Parte il {when}, ora tua."),
                };
                if p.first_of_two {
                    text.push(' ');
                    text.push_str(l.t(
                        "That time happens twice that day (the clocks go back): the first one is used.",
                        "Quell'ora capita due volte quel giorno (si torna all'ora solare): vale la prima.",
                    ));
                }
                Some(text)
            }
            _ => None,
        })
    };
    let option = move |zone: String, label: String| {
        let is = zone.clone();
        view! { <option value=zone selected=move || c.zone.get() == is>{label}</option> }
    };
    view! {
        <dialog node_ref=c.dialog class="dialog" aria-labelledby="schedule-title"
            on:close=move |_| c.scheduling.set(false)>
            <h2 id="schedule-title">{l.t("Schedule", "Programma")}</h2>
            <form on:submit=confirm>
                <div class="field">
                    <label for="schedule-at">{l.t("Send at", "Invia il")}</label>
                    <input id="schedule-at" type="datetime-local" step="1" prop:value=move || c.local.get()
                        on:input=move |ev| c.local.set(event_target_value(&ev))
                        aria-invalid=move || send_at_error().map(|_| "true")
                        aria-describedby="schedule-at-error schedule-preview"/>
                    <p class="field-error" id="schedule-at-error">{send_at_error}</p>
                </div>
                <div class="field">
                    <label for="schedule-zone">{l.t("Time zone", "Fuso orario")}</label>
                    <select id="schedule-zone" on:change=move |ev| c.zone.set(event_target_value(&ev))>
                        <optgroup label=l.t("Suggested", "Suggeriti")>
                            {option(user_zone.clone(), match l {
                                Locale::En => format!("Yours: {user_zone}"),
                                Locale::It => format!("Il tuo: {user_zone}"),
                            })}
                            {move || contact_zone().map(|zone| option(zone.clone(), match l {
                                Locale::En => format!("The contact's: {zone}"),
                                Locale::It => format!("Del contatto: {zone}"),
                            }))}
                        </optgroup>
                        <optgroup label=l.t("All time zones", "Tutti i fusi orari")>
                            {move || c.scheduling.get().then(|| {
                                TIME_ZONES.iter().map(|z| option(z.to_string(), z.to_string())).collect_view()
                            })}
                        </optgroup>
                    </select>
                </div>
                <p id="schedule-preview" class="note" role="status">{shown}</p>
                <div class="actions">
                    <button type="button" on:click=move |_| c.close_schedule()>{l.t("Cancel", "Annulla")}</button>
                    <button type="submit" class="primary" disabled=move || c.pending.get()>
                        {l.t("Schedule send", "Programma invio")}
                    </button>
                </div>
            </form>
        </dialog>
    }
}

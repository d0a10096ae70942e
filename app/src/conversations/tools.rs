//! The composer's tools: **Emoji**, **Snippets** (also by typing `/` and a name), **Insert
//! field** with the live preview of merge fields for the contact on screen, and **Attach file**.

use leptos::{ev, prelude::*, task::spawn_local};

use super::{
    attachments::Attachment,
    merge::{self, MergeValues},
    Channel,
};
use crate::{
    error::AppError,
    i18n::{use_locale, Locale},
    snippets::{list_snippets, save_snippet, Snippet, SnippetDraft, SnippetForm},
};

/// The emoji the picker offers (bundled: no font or image is fetched from anywhere).
pub const EMOJI: &[&str] = &[
    "😀", "😃", "😄", "😁", "😊", "🙂", "😉", "😍", "🥰", "😘", "😎", "🤩", "🤔", "😅", "😂", "🙏",
    "👍", "👎", "👏", "🙌", "🤝", "👋", "💪", "✌️", "👌", "✅", "❌", "⚠️", "❗", "❓", "💡", "🔥",
    "⭐", "🎉", "🎁", "🎂", "❤️", "💙", "💚", "💛", "📅", "⏰", "📞", "📧", "📍", "🏠", "🚗", "✈️",
    "☕", "🍕", "🍷", "🌞", "🌧️", "🌸", "📄", "📎", "💶", "🛒", "📦", "🔧", "📈", "🇮🇹", "😢", "😮",
];

/// Which tool's panel is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tool {
    Emoji,
    Snippets,
    Fields,
}

/// A `/name` being typed at the cursor: where the `/` is (in the text's UTF-16 units, as the
/// browser counts) and what follows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Slash {
    pub start: u32,
    pub end: u32,
    pub query: String,
}

/// The `/name` just before the cursor at `caret` (UTF-16), if there is one: a `/` at the start
/// of the text or after a space or line break, then up to 30 characters without spaces.
pub fn slash_at(text: &str, caret: u32) -> Option<Slash> {
    let mut units = 0u32;
    let mut before = String::new();
    for c in text.chars() {
        if units >= caret {
            break;
        }
        units += c.len_utf16() as u32;
        before.push(c);
    }
    let slash = before.rfind('/')?;
    let query = &before[slash + 1..];
    let starts_word = before[..slash]
        .chars()
        .next_back()
        .is_none_or(char::is_whitespace);
    if !starts_word || query.chars().any(char::is_whitespace) || query.chars().count() > 30 {
        return None;
    }
    let start = before[..slash].encode_utf16().count() as u32;
    Some(Slash {
        start,
        end: caret,
        query: query.to_string(),
    })
}

#[cfg(feature = "hydrate")]
fn too_large() -> AppError {
    use super::attachments::MAX_BYTES;
    AppError::invalid(
        "attachments",
        crate::error::Problem::FileTooLarge {
            max_mb: (MAX_BYTES / (1024 * 1024)) as u64,
        },
    )
}

/// Sends a file to the server for the draft to `contact`; answers what the server kept.
#[cfg(feature = "hydrate")]
async fn upload(contact: uuid::Uuid, file: web_sys::File) -> Result<Attachment, AppError> {
    use wasm_bindgen::JsCast;
    let url = format!(
        "/attachments?contact={contact}&name={}",
        urlencoding::encode(&file.name())
    );
    let init = web_sys::RequestInit::new();
    init.set_method("POST");
    init.set_body(&file);
    let unreachable = |_| AppError::Transport("the server could not be reached".into());
    let request = web_sys::Request::new_with_str_and_init(&url, &init).map_err(unreachable)?;
    let _ = request.headers().set("accept", "application/json");
    let response = wasm_bindgen_futures::JsFuture::from(window().fetch_with_request(&request))
        .await
        .map_err(unreachable)?;
    let response: web_sys::Response = response.dyn_into().map_err(unreachable)?;
    let text = wasm_bindgen_futures::JsFuture::from(response.text().map_err(unreachable)?)
        .await
        .map_err(unreachable)?
        .as_string()
        .unwrap_or_default();
    if response.ok() {
        serde_json::from_slice(text.as_bytes()).map_err(|_| AppError::Internal)
    } else if response.status() == 413 {
        Err(too_large())
    } else {
        Err(serde_json::from_slice(text.as_bytes()).unwrap_or(AppError::Internal))
    }
}

/// What the composer's tools work on.
#[derive(Clone, Copy)]
pub struct ToolsState {
    /// The contact files are uploaded for (by the browser).
    #[cfg_attr(not(feature = "hydrate"), allow(dead_code))]
    pub contact_id: Signal<uuid::Uuid>,
    pub channel: RwSignal<Channel>,
    pub subject: RwSignal<String>,
    pub body: RwSignal<String>,
    pub attachments: RwSignal<Vec<Attachment>>,
    pub textarea: NodeRef<leptos::html::Textarea>,
    pub open: RwSignal<Option<Tool>>,
    pub snippets: RwSignal<Option<Vec<Snippet>>>,
    pub problem: RwSignal<Option<AppError>>,
    /// Called after the tools changed the draft (to keep it).
    pub changed: Callback<()>,
}

impl ToolsState {
    /// Puts `text` into the message at the cursor (replacing what is selected), or over
    /// `range` (UTF-16), and puts the cursor after it.
    pub fn insert(self, text: &str, range: Option<(u32, u32)>) {
        match self.textarea.get_untracked() {
            Some(area) => {
                let len = area.value().encode_utf16().count() as u32;
                let (start, end) = range.unwrap_or_else(|| {
                    (
                        area.selection_start().ok().flatten().unwrap_or(len),
                        area.selection_end().ok().flatten().unwrap_or(len),
                    )
                });
                let _ = area.set_range_text_with_start_and_end_and_mode(text, start, end, "end");
                self.body.set(area.value());
                let _ = area.focus();
            }
            None => self.body.update(|b| b.push_str(text)),
        }
        self.changed.run(());
    }

    /// A snippet into the message; its subject too, for an email without one yet.
    pub fn use_snippet(self, snippet: &Snippet, range: Option<(u32, u32)>) {
        if let Some(subject) = &snippet.subject {
            if self.channel.get_untracked() == Channel::Email
                && self.subject.with_untracked(|s| s.trim().is_empty())
            {
                self.subject.set(subject.clone());
            }
        }
        self.open.set(None);
        self.insert(&snippet.body, range);
    }

    /// The snippets, read once when first wanted.
    pub fn load_snippets(self) {
        if self.snippets.with_untracked(Option::is_some) {
            return;
        }
        self.snippets.set(Some(Vec::new()));
        spawn_local(async move {
            match list_snippets().await {
                Ok(list) => self.snippets.set(Some(list)),
                Err(e) => {
                    self.snippets.set(None);
                    self.problem.set(Some(e));
                }
            }
        });
    }

    fn toggle(self, tool: Tool) {
        let open = self.open.get_untracked() == Some(tool);
        self.open.set((!open).then_some(tool));
        if tool == Tool::Snippets && !open {
            self.load_snippets();
        }
    }

    /// Uploads the files chosen (each checked for size here first, and by the server).
    #[allow(unused_variables)]
    fn attach(self, files: Vec<web_sys::File>) {
        #[cfg(feature = "hydrate")]
        for file in files {
            use super::attachments::{MAX_BYTES, MAX_FILES};
            if file.size() > MAX_BYTES as f64 {
                self.problem.set(Some(too_large()));
                continue;
            }
            if self.attachments.with_untracked(Vec::len) >= MAX_FILES {
                self.problem.set(Some(AppError::invalid(
                    "attachments",
                    crate::error::Problem::TooManyFiles {
                        max: MAX_FILES as u64,
                    },
                )));
                break;
            }
            let contact = self.contact_id.get_untracked();
            spawn_local(async move {
                match upload(contact, file).await {
                    Ok(attachment) => {
                        self.problem.set(None);
                        self.attachments.update(|a| a.push(attachment));
                        self.changed.run(());
                    }
                    Err(e) => self.problem.set(Some(e)),
                }
            });
        }
    }
}

/// The row of tool buttons and the open tool's panel.
#[component]
pub fn ComposerTools(
    tools: ToolsState,
    #[prop(into)] layout: Signal<crate::fields::Layout>,
) -> impl IntoView {
    let l = use_locale();
    let t = tools;
    let file_input = NodeRef::<leptos::html::Input>::new();
    let pressed = move |tool: Tool| {
        move || {
            if t.open.get() == Some(tool) {
                "true"
            } else {
                "false"
            }
        }
    };
    let on_files = move |ev: ev::Event| {
        use wasm_bindgen::JsCast;
        let Some(input) = ev
            .target()
            .and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok())
        else {
            return;
        };
        let mut files = Vec::new();
        if let Some(list) = input.files() {
            for i in 0..list.length() {
                if let Some(file) = list.get(i) {
                    files.push(file);
                }
            }
        }
        // The same file can be chosen again after it was removed.
        input.set_value("");
        t.attach(files);
    };
    view! {
        <div class="composer-tools" role="toolbar" aria-label=l.t("Message tools", "Strumenti del messaggio")>
            <button type="button" aria-expanded=pressed(Tool::Emoji) aria-controls="composer-emoji"
                on:click=move |_| t.toggle(Tool::Emoji)>{l.t("Emoji", "Emoji")}</button>
            <button type="button" aria-expanded=pressed(Tool::Snippets) aria-controls="composer-snippets"
                on:click=move |_| t.toggle(Tool::Snippets)>{l.t("Snippets", "Modelli")}</button>
            <button type="button" aria-expanded=pressed(Tool::Fields) aria-controls="composer-fields"
                on:click=move |_| t.toggle(Tool::Fields)>{l.t("Insert field", "Inserisci campo")}</button>
            <button type="button" on:click=move |_| {
                if let Some(input) = file_input.get_untracked() {
                    input.click();
                }
            }>{l.t("Attach file", "Allega file")}</button>
            <input node_ref=file_input type="file" multiple hidden tabindex="-1" aria-hidden="true"
                accept=".pdf,.png,.jpg,.jpeg,.gif,.webp,.txt,.csv,.docx,.xlsx,.pptx,.odt,.ods,.zip"
                on:change=on_files/>
        </div>
        <div id="composer-emoji" class="tool-panel emoji-panel" role="group"
            aria-label=l.t("Emoji", "Emoji") hidden=move || t.open.get() != Some(Tool::Emoji)>
            {EMOJI.iter().map(|e| view! {
                <button type="button" class="emoji" on:click=move |_| t.insert(e, None)>{*e}</button>
            }).collect_view()}
        </div>
        <SnippetsPanel tools=t/>
        <FieldsPanel tools=t layout/>
        <AttachmentList tools=t/>
    }
}

#[component]
fn SnippetsPanel(tools: ToolsState) -> impl IntoView {
    let l = use_locale();
    let t = tools;
    let name = RwSignal::new(String::new());
    let team = RwSignal::new(false);
    let saved = RwSignal::new(false);
    // The snippet being changed right here, if any; once saved (or deleted), the list is read
    // again.
    let editing = RwSignal::new(None::<uuid::Uuid>);
    let reloaded = Callback::new(move |_| {
        editing.set(None);
        t.snippets.set(None);
        t.load_snippets();
    });
    let error = RwSignal::new(None::<AppError>);
    let save = move |ev: ev::SubmitEvent| {
        ev.prevent_default();
        let draft = SnippetDraft {
            name: name.get_untracked(),
            subject: if t.channel.get_untracked() == Channel::Email {
                t.subject.get_untracked()
            } else {
                String::new()
            },
            body: t.body.get_untracked(),
            team: team.get_untracked(),
        };
        if let Err(e) = draft.check() {
            error.set(Some(e));
            return;
        }
        spawn_local(async move {
            match save_snippet(None, draft).await {
                Ok(snippet) => {
                    error.set(None);
                    saved.set(true);
                    name.set(String::new());
                    t.snippets.update(|list| {
                        if let Some(list) = list {
                            list.push(snippet);
                            list.sort_by(|a, b| a.name.cmp(&b.name));
                        }
                    });
                }
                Err(e) => error.set(Some(e)),
            }
        });
    };
    let problem = move || {
        error.with(|e| {
            e.as_ref().map(|e| {
                ["name", "body"]
                    .iter()
                    .find_map(|f| e.field_problem(f))
                    .map_or_else(|| e.message(l), |p| p.text(l))
            })
        })
    };
    view! {
        <div id="composer-snippets" class="tool-panel" role="group" aria-label=l.t("Snippets", "Modelli")
            hidden=move || t.open.get() != Some(Tool::Snippets)>
            {move || t.snippets.with(|list| match list {
                Some(list) if list.is_empty() => view! {
                    <p class="note">{l.t("No snippets yet: save this message as one below.", "Ancora nessun modello: salva questo messaggio come modello qui sotto.")}</p>
                }.into_any(),
                Some(list) => view! {
                    <ul class="snippet-list">
                        {list.iter().cloned().map(|snippet| {
                            let name = snippet.name.clone();
                            let excerpt: String = snippet.body.chars().take(80).collect();
                            let id = snippet.id;
                            let edit_label = match l {
                                Locale::En => format!("Edit snippet {name}"),
                                Locale::It => format!("Modifica modello {name}"),
                            };
                            let for_form = snippet.clone();
                            let editable = snippet.editable;
                            view! {
                                <li>
                                    <button type="button" class="snippet-choice"
                                        on:click=move |_| t.use_snippet(&snippet, None)>
                                        <strong>{name}</strong>
                                        <span class="muted">{excerpt}</span>
                                    </button>
                                    {editable.then(|| view! {
                                        <button type="button" aria-label=edit_label
                                            aria-expanded=move || if editing.get() == Some(id) { "true" } else { "false" }
                                            on:click=move |_| editing.update(|e| *e = if *e == Some(id) { None } else { Some(id) })>
                                            {l.t("Edit", "Modifica")}
                                        </button>
                                    })}
                                    {move || (editing.get() == Some(id)).then(|| view! {
                                        <SnippetForm snippet=Some(for_form.clone()) saved=reloaded/>
                                    })}
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
                None => ().into_any(),
            })}
            <form class="inline-form" on:submit=save>
                <div class="field">
                    <label for="composer-snippet-name">{l.t("Snippet name", "Nome del modello")}</label>
                    <input id="composer-snippet-name" type="text" prop:value=move || name.get()
                        on:input=move |ev| { name.set(event_target_value(&ev)); saved.set(false); }
                        aria-describedby="composer-snippet-error"/>
                </div>
                <label class="check">
                    <input type="checkbox" prop:checked=move || team.get()
                        on:change=move |ev| team.set(event_target_checked(&ev))/>
                    {l.t("Share with the team", "Condividi con il team")}
                </label>
                <button type="submit">{l.t("Save as snippet", "Salva come modello")}</button>
                <a href="/settings/snippets">{l.t("Manage snippets", "Gestisci i modelli")}</a>
            </form>
            <p class="field-error" id="composer-snippet-error">{problem}</p>
            <p class="save-status" role="status">{move || saved.get().then_some(l.t("Snippet saved", "Modello salvato"))}</p>
        </div>
    }
}

#[component]
fn FieldsPanel(tools: ToolsState, layout: Signal<crate::fields::Layout>) -> impl IntoView {
    let l = use_locale();
    let t = tools;
    let find = RwSignal::new(String::new());
    let fields = Memo::new(move |_| layout.with(|layout| merge::fields(layout, l)));
    let shown = move || {
        let query = find.get().to_lowercase();
        fields.with(|all| {
            all.iter()
                .filter(|f| query.is_empty() || f.label.to_lowercase().contains(&query))
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    view! {
        <div id="composer-fields" class="tool-panel" role="group" aria-label=l.t("Insert field", "Inserisci campo")
            hidden=move || t.open.get() != Some(Tool::Fields)>
            <div class="field">
                <label for="composer-field-find">{l.t("Find a field", "Trova un campo")}</label>
                <input id="composer-field-find" type="search" prop:value=move || find.get()
                    on:input=move |ev| find.set(event_target_value(&ev))/>
            </div>
            <ul class="field-choices">
                {move || shown().into_iter().map(|field| {
                    let token = field.token();
                    view! {
                        <li>
                            <button type="button" on:click=move |_| { t.open.set(None); t.insert(&token, None); }>
                                {field.label}
                            </button>
                        </li>
                    }
                }).collect_view()}
            </ul>
        </div>
    }
}

#[component]
fn AttachmentList(tools: ToolsState) -> impl IntoView {
    let l = use_locale();
    let t = tools;
    view! {
        <ul class="attachments" aria-label=l.t("Attachments", "Allegati")
            hidden=move || t.attachments.with(Vec::is_empty)>
            {move || t.attachments.get().into_iter().map(|file| {
                let id = file.id;
                let remove = match l {
                    Locale::En => format!("Remove attachment {}", file.file_name),
                    Locale::It => format!("Rimuovi allegato {}", file.file_name),
                };
                view! {
                    <li class="attachment">
                        <span>{file.label(l)}</span>
                        <button type="button" class="chip-remove" aria-label=remove on:click=move |_| {
                            t.attachments.update(|a| a.retain(|f| f.id != id));
                            t.changed.run(());
                        }>"×"</button>
                    </li>
                }
            }).collect_view()}
        </ul>
    }
}

/// The snippets matching a `/name` being typed, to choose with the arrow keys and Enter.
#[component]
pub fn SlashSuggestions(
    tools: ToolsState,
    slash: RwSignal<Option<Slash>>,
    selected: RwSignal<usize>,
) -> impl IntoView {
    let l = use_locale();
    let t = tools;
    let matches = move || {
        let Some(s) = slash.get() else {
            return Vec::new();
        };
        t.snippets.with(|list| {
            list.as_ref()
                .map(|list| {
                    list.iter()
                        .filter(|snippet| snippet.matches(&s.query))
                        .take(6)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default()
        })
    };
    view! {
        <ul id="composer-slash" class="suggestions" role="listbox" aria-label=l.t("Snippets", "Modelli")
            hidden=move || matches().is_empty()>
            {move || matches().into_iter().enumerate().map(|(i, snippet)| {
                let name = snippet.name.clone();
                view! {
                    <li role="option" aria-selected=move || if selected.get() == i { "true" } else { "false" }
                        on:mousedown=move |ev| {
                            // Chosen before the text box loses focus.
                            ev.prevent_default();
                            let range = slash.get_untracked().map(|s| (s.start, s.end));
                            slash.set(None);
                            t.use_snippet(&snippet, range);
                        }>
                        {name}
                    </li>
                }
            }).collect_view()}
        </ul>
        <p class="visually-hidden" role="status">{move || {
            let n = matches().len();
            (n > 0).then(|| match l {
                Locale::En => format!("{n} snippets match: arrow keys to choose, Enter to insert."),
                Locale::It => format!("{n} modelli corrispondono: frecce per scegliere, Invio per inserire."),
            })
        }}</p>
    }
}

/// The slash suggestions' snippets, for the keyboard: the one `selected` of those matching.
pub fn slash_choice(tools: ToolsState, slash: &Slash, selected: usize) -> Option<Snippet> {
    tools.snippets.with_untracked(|list| {
        list.as_ref()?
            .iter()
            .filter(|s| s.matches(&slash.query))
            .take(6)
            .nth(selected)
            .cloned()
    })
}

/// The message as this contact will read it, when it has merge fields, and which of them are
/// empty for the contact.
#[component]
pub fn MergePreview(
    #[prop(into)] contact: Signal<crate::contacts::Contact>,
    #[prop(into)] layout: Signal<crate::fields::Layout>,
    sender: merge::Sender,
    tools: ToolsState,
) -> impl IntoView {
    let l = use_locale();
    let t = tools;
    let sender = StoredValue::new(sender);
    let rendered = Memo::new(move |_| {
        let (subject, body) = (t.subject.get(), t.body.get());
        let email = t.channel.get() == Channel::Email;
        if !(body.contains("{{") || email && subject.contains("{{")) {
            return None;
        }
        let subject = email.then_some(subject.as_str());
        Some(contact.with(|c| {
            layout.with(|layout| sender.with_value(|s| preview(c, layout, s, subject, &body, l)))
        }))
    });
    view! {
        {move || rendered.get().map(|(subject, body, empty)| view! {
            <section class="merge-preview" aria-label=l.t("Preview", "Anteprima")>
                <h3>{l.t("Preview for this contact", "Anteprima per questo contatto")}</h3>
                {subject.map(|s| view! { <p class="message-subject">{s}</p> })}
                <p class="message-body">{body}</p>
                {(!empty.is_empty()).then(|| view! {
                    <p class="warning" role="status">{match l {
                        Locale::En => format!("Empty for this contact, left out: {}.", empty.join(", ")),
                        Locale::It => format!("Vuoti per questo contatto, verranno omessi: {}.", empty.join(", ")),
                    }}</p>
                })}
            </section>
        })}
    }
}

/// A draft as the contact will read it: its subject (for an email) and text with merge fields
/// filled in, and the menu names of the merge fields empty for this contact.
pub fn preview(
    contact: &crate::contacts::Contact,
    layout: &crate::fields::Layout,
    sender: &merge::Sender,
    subject: Option<&str>,
    body: &str,
    l: Locale,
) -> (Option<String>, String, Vec<String>) {
    let values = MergeValues::new(contact, layout, sender, l);
    let subject = subject.map(|s| merge::render(s, &values, layout));
    let body = merge::render(body, &values, layout);
    let mut keys = body.empty.clone();
    for key in subject.iter().flat_map(|s| s.empty.iter()) {
        if !keys.contains(key) {
            keys.push(key.clone());
        }
    }
    let all = merge::fields(layout, l);
    let labels = keys
        .into_iter()
        .map(|key| {
            all.iter()
                .find(|f| f.key == key)
                .map_or(key, |f| f.label.clone())
        })
        .collect();
    (subject.map(|s| s.text), body.text, labels)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slash_starts_a_snippet_name_at_the_start_of_a_word() {
        assert_eq!(
            slash_at("Ciao /benv", 10),
            Some(Slash {
                start: 5,
                end: 10,
                query: "benv".into()
            })
        );
        assert_eq!(slash_at("/", 1).map(|s| s.query), Some(String::new()));
        assert_eq!(slash_at("e/o", 3), None, "inside a word");
        assert_eq!(slash_at("/due parole", 11), None);
        // Emoji count twice in the browser's units.
        assert_eq!(slash_at("😀 /x", 5).map(|s| s.start), Some(3));
    }
}

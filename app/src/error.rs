//! The one error type that crosses the wire between the browser and the server.
//!
//! Server code inside a feature may use its own `thiserror` enum, but everything a server function
//! returns is an [`AppError`], so the browser can show a typed error next to the field that caused
//! it. Unexpected failures are logged on the server and reach the browser only as
//! [`AppError::Internal`]: no SQL or stack trace ever leaves the server.

use leptos::server_fn::{
    codec::JsonEncoding,
    error::{FromServerFnError, ServerFnErrorErr},
};
use serde::{Deserialize, Serialize};

use crate::i18n::Locale;

/// A problem with one input, shown next to the control named by `field`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The form field's `name` (e.g. `"email"`).
    pub field: String,
    pub problem: Problem,
}

impl FieldError {
    pub fn new(field: impl Into<String>, problem: Problem) -> Self {
        Self {
            field: field.into(),
            problem,
        }
    }
}

/// What is wrong with a value someone typed. Typed rather than a sentence, so the browser words it
/// in the page's language whichever side found it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Problem {
    EmailMissing,
    EmailNoAt,
    EmailInvalid,
    EmailTaken,
    PasswordTooShort {
        min: usize,
    },
    /// Longer than `max` characters.
    TooLong {
        max: usize,
    },
    NameMissing,
    PhoneInvalid,
    PhoneNotItalian,
    WebsiteInvalid,
    WebsiteScheme,
    DateFormat,
    NotOnCalendar {
        day: u32,
        month: u32,
        year: u32,
    },
    BornInFuture,
    BornBefore1900,
    NotInList,
    TimeZoneUnknown,
    /// A person is left with neither first nor last name.
    PersonWithoutName,
    /// A company is left without its business name.
    CompanyWithoutName,
    KindMissing,
    /// A whole number was expected.
    NumberInvalid,
    /// A number (with decimals) was expected.
    DecimalInvalid,
    /// Beyond what the field can hold.
    NumberTooLarge,
    /// A date and time was expected.
    DateTimeInvalid,
    /// A checkbox value other than yes or no.
    CheckboxInvalid,
    /// A custom field, folder, contact type or tag needs a name.
    NameRequired,
    /// Another one already has this name.
    NameTaken,
    /// A select field needs options to choose from.
    OptionsMissing,
    /// The same option twice.
    OptionRepeated,
    /// Retyping a field would lose `count` contacts' values.
    ValuesWontConvert {
        count: u64,
    },
    /// Standard folders and fields are part of every card.
    StandardFixed,
    /// A colour outside the palette.
    ColorUnknown,
    /// The owner can't also be a follower.
    FollowerIsOwner,
    /// Not a user of this workspace (or a disabled one).
    UserUnknown,
    /// The workspace would be left without an admin.
    LastAdmin,
    /// An admin can't disable or demote themselves.
    NotYourself,
    /// A password link that is unknown, used or expired.
    LinkExpired,
    /// An email needs its subject.
    SubjectMissing,
    /// A message needs some text.
    MessageEmpty,
    /// The contact asked not to be contacted on this channel.
    DoNotDisturb,
    /// No provider is set up for this channel.
    ChannelNotSetUp,
    /// The contact has no address for this channel (no email, no phone number).
    NoAddress,
    /// A scheduled time that has already passed.
    TimeInPast,
    /// A time the clocks skip that day in that zone (spring forward).
    TimeSkipped {
        time: String,
        zone: String,
    },
    /// The message is already being sent: too late to change or cancel it.
    AlreadySending,
    /// An attached file with nothing in it.
    FileEmpty,
    /// An attached file over the limit.
    FileTooLarge {
        max_mb: u64,
    },
    /// A kind of file Rubrica does not send (programs, unknown formats).
    FileTypeRefused,
    /// More files than one message may carry.
    TooManyFiles {
        max: u64,
    },
    /// An attached file that is no longer there (removed, or sent with another message).
    FileGone,
    /// Files go by email only.
    AttachmentsEmailOnly,
}

/// Text on one line with its spaces folded: how a name or a subject is kept.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A tidied text's problem, if it has one: empty where it is needed (`missing`), or longer than
/// `max` characters.
pub fn text_problem(text: &str, missing: Option<Problem>, max: usize) -> Option<Problem> {
    if text.is_empty() {
        missing
    } else if text.chars().count() > max {
        Some(Problem::TooLong { max })
    } else {
        None
    }
}

impl Problem {
    pub fn text(&self, l: Locale) -> String {
        use Problem::*;
        let text = match self {
            EmailMissing => l.t("Enter an email address.", "Inserisci un indirizzo email."),
            EmailNoAt => l.t(
                "An email address needs an @, like name@example.com.",
                "Un indirizzo email contiene una @, come nome@esempio.it.",
            ),
            EmailInvalid => l.t(
                "Enter a valid email address, like name@example.com.",
                "Inserisci un indirizzo email valido, come nome@esempio.it.",
            ),
            EmailTaken => l.t(
                "A user with this email already exists.",
                "Esiste già un utente con questa email.",
            ),
            PasswordTooShort { min } => {
                return match l {
                    Locale::En => format!("Use at least {min} characters for the password."),
                    Locale::It => format!("La password deve avere almeno {min} caratteri."),
                }
            }
            TooLong { max } => {
                return match l {
                    Locale::En => format!("Keep it under {max} characters."),
                    Locale::It => format!("Non superare i {max} caratteri."),
                }
            }
            NameMissing => l.t("Enter your name.", "Inserisci il tuo nome."),
            PhoneInvalid => l.t(
                "Enter a phone number, like 347 123 4567 or +44 20 7946 0958.",
                "Inserisci un numero di telefono, come 347 123 4567 o +44 20 7946 0958.",
            ),
            PhoneNotItalian => l.t(
                "That is not an Italian number: start with 0 or 3, or add the country code (+…).",
                "Non è un numero italiano: deve iniziare con 0 o 3, oppure aggiungi il prefisso internazionale (+…).",
            ),
            WebsiteInvalid => l.t(
                "Enter a web address, like www.example.it.",
                "Inserisci un indirizzo web, come www.esempio.it.",
            ),
            WebsiteScheme => l.t(
                "Only http:// and https:// addresses can be opened from here.",
                "Da qui si possono aprire solo indirizzi http:// e https://.",
            ),
            DateFormat => l.t(
                "Enter the date as dd/mm/yyyy, like 24/05/1987.",
                "Scrivi la data come gg/mm/aaaa, per esempio 24/05/1987.",
            ),
            NotOnCalendar { day, month, year } => {
                return match l {
                    Locale::En => {
                        format!("{day:02}/{month:02}/{year} is not a date on the calendar.")
                    }
                    Locale::It => format!("Il {day:02}/{month:02}/{year} non esiste."),
                }
            }
            BornInFuture => l.t(
                "A date of birth can't be in the future.",
                "La data di nascita non può essere nel futuro.",
            ),
            BornBefore1900 => l.t(
                "Enter a date of birth after 1900.",
                "Inserisci una data di nascita successiva al 1900.",
            ),
            NotInList => l.t(
                "Choose one of the options in the list.",
                "Scegli una delle opzioni dell'elenco.",
            ),
            TimeZoneUnknown => l.t(
                "Choose a time zone from the list, like Europe/Rome.",
                "Scegli un fuso orario dall'elenco, come Europe/Rome.",
            ),
            PersonWithoutName => l.t(
                "A person needs a first name or a last name.",
                "Una persona deve avere un nome o un cognome.",
            ),
            CompanyWithoutName => l.t(
                "A company needs its business name.",
                "Un'azienda deve avere il nome dell'azienda.",
            ),
            KindMissing => l.t("Choose person or company.", "Scegli persona o azienda."),
            NumberInvalid => l.t(
                "Enter a whole number, like 42 or 1.250.",
                "Inserisci un numero intero, come 42 o 1.250.",
            ),
            DecimalInvalid => l.t(
                "Enter a number, like 19.90 or 1,250.50.",
                "Inserisci un numero, come 19,90 o 1.250,50.",
            ),
            NumberTooLarge => l.t("That number is too large.", "Il numero è troppo grande."),
            DateTimeInvalid => l.t(
                "Enter a date and time, like 24/05/2026 14:30.",
                "Inserisci data e ora, come 24/05/2026 14:30.",
            ),
            CheckboxInvalid => l.t("Choose yes or no.", "Scegli sì o no."),
            NameRequired => l.t("Enter a name.", "Inserisci un nome."),
            NameTaken => l.t(
                "That name is already used. Choose another.",
                "Questo nome è già usato. Scegline un altro.",
            ),
            OptionsMissing => l.t(
                "Add at least one option, one per line.",
                "Aggiungi almeno un'opzione, una per riga.",
            ),
            OptionRepeated => l.t(
                "Each option can appear only once.",
                "Ogni opzione può comparire una sola volta.",
            ),
            ValuesWontConvert { count } => {
                return match l {
                    Locale::En if *count == 1 => {
                        "1 contact has a value that can't become this type. Change or clear it first.".to_string()
                    }
                    Locale::En => format!(
                        "{count} contacts have values that can't become this type. Change or clear them first."
                    ),
                    Locale::It if *count == 1 => {
                        "1 contatto ha un valore che non può diventare di questo tipo. Modificalo o svuotalo prima.".to_string()
                    }
                    Locale::It => format!(
                        "{count} contatti hanno valori che non possono diventare di questo tipo. Modificali o svuotali prima."
                    ),
                }
            }
            StandardFixed => l.t(
                "Standard folders and fields can be moved, but not renamed or deleted.",
                "Le cartelle e i campi standard si possono spostare, ma non rinominare né eliminare.",
            ),
            ColorUnknown => l.t("Choose a colour from the list.", "Scegli un colore dall'elenco."),
            FollowerIsOwner => l.t(
                "The owner can't also be a follower. Choose someone else, or change the owner first.",
                "Il proprietario non può essere anche follower. Scegli un'altra persona o cambia prima il proprietario.",
            ),
            UserUnknown => l.t(
                "Choose an active member of the team.",
                "Scegli un membro attivo del team.",
            ),
            LastAdmin => l.t(
                "The workspace needs at least one active admin.",
                "Lo spazio di lavoro deve avere almeno un amministratore attivo.",
            ),
            NotYourself => l.t(
                "You can't do that to your own account.",
                "Non puoi farlo sul tuo account.",
            ),
            LinkExpired => l.t(
                "This link has expired or was already used. Ask for a new one.",
                "Questo link è scaduto o è già stato usato. Richiedine uno nuovo.",
            ),
            SubjectMissing => l.t("An email needs a subject.", "Un'email deve avere un oggetto."),
            MessageEmpty => l.t("Write a message first.", "Scrivi prima un messaggio."),
            DoNotDisturb => l.t(
                "Do Not Disturb is on for this channel: the contact asked not to be contacted this way.",
                "Non disturbare è attivo per questo canale: il contatto ha chiesto di non essere contattato così.",
            ),
            FileEmpty => l.t("This file is empty.", "Questo file è vuoto."),
            FileTooLarge { max_mb } => {
                return match l {
                    Locale::En => format!("Files can be up to {max_mb} MB."),
                    Locale::It => format!("I file possono essere al massimo di {max_mb} MB."),
                }
            }
            FileTypeRefused => l.t(
                "Rubrica sends documents, spreadsheets, images, PDF and text files; not this kind of file.",
                "Rubrica invia documenti, fogli di calcolo, immagini, PDF e file di testo; non questo tipo di file.",
            ),
            TooManyFiles { max } => {
                return match l {
                    Locale::En => format!("A message can carry up to {max} files."),
                    Locale::It => format!("Un messaggio può avere al massimo {max} file."),
                }
            }
            FileGone => l.t(
                "An attached file is no longer there. Attach it again.",
                "Un file allegato non c'è più. Allegalo di nuovo.",
            ),
            AttachmentsEmailOnly => l.t(
                "Files can be sent by email only.",
                "I file si possono inviare solo via email.",
            ),
            ChannelNotSetUp => l.t(
                "This channel is not set up yet: an admin adds its provider in the server's settings.",
                "Questo canale non è ancora configurato: un amministratore aggiunge il fornitore nelle impostazioni del server.",
            ),
            NoAddress => l.t(
                "The contact has no address for this channel: add it to the card first.",
                "Il contatto non ha un recapito per questo canale: aggiungilo prima nella scheda.",
            ),
            TimeInPast => l.t(
                "That time has already passed. Choose a later one.",
                "Quell'ora è già passata. Scegline una successiva.",
            ),
            TimeSkipped { time, zone } => {
                return match l {
                    Locale::En => format!(
                        "{time} does not exist that day in {zone}: the clocks skip that hour. Choose another time."
                    ),
                    Locale::It => format!(
                        "Le {time} non esistono quel giorno a {zone}: gli orologi saltano quell'ora. Scegli un altro orario."
                    ),
                }
            }
            AlreadySending => l.t(
                "This message is already being sent; it can't be changed now.",
                "Questo messaggio è già in invio; ora non si può più modificare.",
            ),
        };
        text.to_string()
    }
}

/// In English, for the command line and logs.
impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text(Locale::En))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppError {
    Unauthorized,
    Forbidden,
    NotFound,
    /// Deliberately the same for an unknown email and a wrong password.
    WrongCredentials,
    TooManyAttempts,
    Invalid(Vec<FieldError>),
    /// Someone saved the record after this user opened it.
    Conflict,
    /// First-run setup, when the workspace already has its admin.
    AlreadySetUp,
    Internal,
    /// The request never got a proper answer (network down, server restarting…).
    Transport(String),
}

impl AppError {
    pub fn invalid(field: impl Into<String>, problem: Problem) -> Self {
        AppError::Invalid(vec![FieldError::new(field, problem)])
    }

    /// The problem with one field, if this error is about it.
    pub fn field_problem(&self, field: &str) -> Option<Problem> {
        match self {
            AppError::Invalid(errors) => errors
                .iter()
                .find(|e| e.field == field)
                .map(|e| e.problem.clone()),
            _ => None,
        }
    }

    /// The error as the user reads it, in their language; a problem with one field in that
    /// field's words.
    pub fn message(&self, l: Locale) -> String {
        match self {
            AppError::Invalid(errors) if errors.len() == 1 => errors[0].problem.text(l),
            other => other.summary(l),
        }
    }

    /// The error in one sentence, never the words of a field's problem (fields say those
    /// themselves): what the contacts list shows, which keeps every field's words out of the
    /// list's bundle.
    pub fn summary(&self, l: Locale) -> String {
        let text = match self {
            AppError::Unauthorized => l.t("Please sign in to continue.", "Accedi per continuare."),
            AppError::Forbidden => l.t(
                "You are not allowed to do that.",
                "Non hai il permesso di farlo.",
            ),
            AppError::NotFound => l.t("Not found.", "Non trovato."),
            AppError::WrongCredentials => {
                l.t("Wrong email or password.", "Email o password errata.")
            }
            AppError::TooManyAttempts => l.t(
                "Too many sign-in attempts for this email. Wait a few minutes, then try again.",
                "Troppi tentativi di accesso per questa email. Attendi qualche minuto e riprova.",
            ),
            AppError::Invalid(_) => l.t(
                "Please correct the highlighted fields.",
                "Correggi i campi evidenziati.",
            ),
            AppError::Conflict => l.t(
                "Someone else saved this contact after you opened it (another tab, or a \
                 teammate). Your edits are still here: load their version, check, then save again.",
                "Qualcun altro ha salvato questo contatto dopo che lo hai aperto (un'altra scheda \
                 o un collega). Le tue modifiche sono ancora qui: carica la sua versione, \
                 controlla e salva di nuovo.",
            ),
            AppError::AlreadySetUp => l.t(
                "Rubrica is already set up. Sign in instead.",
                "Rubrica è già configurata. Accedi.",
            ),
            AppError::Internal => l.t(
                "Something went wrong on the server. Please try again.",
                "Si è verificato un errore sul server. Riprova.",
            ),
            AppError::Transport(detail) => {
                return match l {
                    Locale::En => format!("Could not reach the server: {detail}"),
                    Locale::It => format!("Impossibile raggiungere il server: {detail}"),
                }
            }
        };
        text.to_string()
    }

    #[cfg(feature = "ssr")]
    pub fn status(&self) -> http::StatusCode {
        use http::StatusCode;
        match self {
            AppError::Unauthorized | AppError::WrongCredentials => StatusCode::UNAUTHORIZED,
            AppError::Forbidden => StatusCode::FORBIDDEN,
            AppError::NotFound => StatusCode::NOT_FOUND,
            AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            AppError::Conflict | AppError::AlreadySetUp => StatusCode::CONFLICT,
            AppError::TooManyAttempts => StatusCode::TOO_MANY_REQUESTS,
            AppError::Internal | AppError::Transport(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }
}

/// In English, for logs and tests; pages use [`AppError::message`].
impl std::fmt::Display for AppError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message(Locale::En))
    }
}

impl std::error::Error for AppError {}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(e: sqlx::Error) -> Self {
        tracing::error!(error = %e, "database error");
        AppError::Internal
    }
}

#[cfg(feature = "ssr")]
impl From<anyhow::Error> for AppError {
    fn from(e: anyhow::Error) -> Self {
        tracing::error!(error = format!("{e:#}"), "unexpected error");
        AppError::Internal
    }
}

pub type AppResult<T> = Result<T, AppError>;

/// An error answered by a plain axum handler, in the shape server functions answer with, so the
/// browser decodes an [`AppError`] either way.
#[cfg(feature = "ssr")]
impl axum::response::IntoResponse for AppError {
    fn into_response(self) -> axum::response::Response {
        let body = serde_json::to_string(&self).unwrap_or_default();
        (
            self.status(),
            [(http::header::CONTENT_TYPE, "application/json")],
            body,
        )
            .into_response()
    }
}

/// Gives a failed server function the HTTP status its [`AppError`] means (404, 409, 422…) instead
/// of the blanket 500 server functions answer with, so logs, load balancers and tests can tell a
/// refusal from a crash; a refused plain form post goes back to its form (303).
#[cfg(feature = "ssr")]
pub async fn error_status_layer(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::{body::Body, response::IntoResponse};
    // Only a page's own form post (no wasm) is sent back to the form; the app's calls ask for JSON.
    let from_a_form = crate::auth::ssr::accepts_html(&req);
    let response = next.run(req).await;
    if !response
        .headers()
        .contains_key(leptos::server_fn::error::SERVER_FN_ERROR_HEADER)
    {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    // Error bodies are a few hundred bytes of JSON; anything far larger is not ours to read.
    let Ok(bytes) = axum::body::to_bytes(body, 64 * 1024).await else {
        return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    if from_a_form && parts.headers.contains_key(http::header::LOCATION) {
        // A plain HTML form's post (the sign-in page has no wasm): Leptos points `Location` back
        // at the form with the error in the URL, and a browser follows it only on a redirect.
        parts.status = http::StatusCode::SEE_OTHER;
    } else if let Ok(error) = serde_json::from_slice::<AppError>(&bytes) {
        parts.status = error.status();
    }
    axum::response::Response::from_parts(parts, Body::from(bytes))
}

//! Email Rubrica sends on its own behalf — invitations, password links, "you own this contact now"
//! — over SMTP with lettre. Server-only.
//!
//! `SMTP_URL` is lettre's URL form (`smtp://host:2525`, `smtp://user:pass@host:587?tls=required`
//! for STARTTLS, `smtps://user:pass@host` for TLS); `MAIL_FROM` is the sender; links point at
//! `PUBLIC_URL`. Without `SMTP_URL` nothing is sent, and the screens that would have sent a link
//! show it to copy instead.

use lettre::{
    message::{header::ContentType, Mailbox, MultiPart, SinglePart},
    transport::smtp::PoolConfig,
    AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor,
};

use crate::i18n::Locale;

/// How Rubrica sends email, if it does, and where its links point.
#[derive(Clone, Debug)]
pub struct MailSettings {
    pub mailer: Option<Mailer>,
    /// The address people reach Rubrica at (`https://crm.example.it`), without a trailing `/`.
    pub public_url: String,
}

impl MailSettings {
    pub fn new(mailer: Option<Mailer>, public_url: &str) -> MailSettings {
        MailSettings {
            mailer,
            public_url: public_url.trim_end_matches('/').to_string(),
        }
    }

    /// A link into Rubrica: `path` starts with `/`.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }
}

/// Pooled SMTP connections and the sender address.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    connections: u32,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Mailer(from {})", self.from)
    }
}

/// Why mail settings were refused at start.
#[derive(Debug, thiserror::Error)]
pub enum MailConfigError {
    #[error("SMTP_URL is not an SMTP URL lettre understands ({0}). Use smtp://host:port, smtp://user:pass@host:587?tls=required or smtps://user:pass@host.")]
    Url(String),
    #[error("MAIL_FROM \"{0}\" is not an email address. Use e.g. \"Rubrica <crm@example.it>\".")]
    From(String),
}

impl Mailer {
    /// Connections kept open to the SMTP server, unless configured otherwise. lettre 0.11 leaves
    /// Nagle's algorithm on, so each email waits for the server's delayed ACK (about 40 ms on
    /// Linux) before its end-of-data line goes out; emails sent side by side on several
    /// connections keep that wait from adding up.
    pub const CONNECTIONS: u32 = 32;

    pub fn new(smtp_url: &str, from: &str) -> Result<Mailer, MailConfigError> {
        Self::with_connections(smtp_url, from, Self::CONNECTIONS)
    }

    /// Like [`Mailer::new`], keeping at most `connections` open.
    pub fn with_connections(
        smtp_url: &str,
        from: &str,
        connections: u32,
    ) -> Result<Mailer, MailConfigError> {
        let connections = connections.max(1);
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp_url)
            .map_err(|e| MailConfigError::Url(e.to_string()))?
            .pool_config(PoolConfig::new().max_size(connections))
            .build();
        let from = from
            .parse::<Mailbox>()
            .map_err(|_| MailConfigError::From(from.to_string()))?;
        Ok(Mailer {
            transport,
            from,
            connections,
        })
    }

    /// How many emails can be on their way at once.
    pub fn connections(&self) -> u32 {
        self.connections
    }

    /// The sender of every email.
    pub fn from(&self) -> &Mailbox {
        &self.from
    }

    /// Hands a built email to the SMTP server; a refusal says whether trying again may help
    /// (SMTP 4xx, no connection) or not (5xx).
    pub async fn send_email(&self, email: Message) -> Result<(), SendFailure> {
        self.transport
            .send(email)
            .await
            .map(|_| ())
            .map_err(|e| SendFailure {
                permanent: e.is_permanent(),
                reason: e.to_string(),
            })
    }

    /// Sends `mail` to `to` (a display name and an address).
    #[tracing::instrument(skip(self, mail), fields(subject = %mail.subject), err)]
    pub async fn send(&self, to_name: &str, to_email: &str, mail: &Mail) -> anyhow::Result<()> {
        let to = Mailbox::new(Some(to_name.to_string()), to_email.parse()?);
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(&mail.subject)
            .multipart(
                MultiPart::alternative()
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_PLAIN)
                            .body(mail.text.clone()),
                    )
                    .singlepart(
                        SinglePart::builder()
                            .header(ContentType::TEXT_HTML)
                            .body(mail.html.clone()),
                    ),
            )?;
        self.send_email(message)
            .await
            .map_err(|e| anyhow::anyhow!(e.reason))
    }
}

/// Why the SMTP server did not take an email.
#[derive(Debug, Clone)]
pub struct SendFailure {
    /// The server said no for good (5xx); otherwise a retry may work.
    pub permanent: bool,
    pub reason: String,
}

/// One email: a subject, and the same words as plain text and as HTML.
#[derive(Debug, Clone)]
pub struct Mail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// `s` safe inside HTML text and attributes.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

impl Mail {
    /// A short message: a greeting, paragraphs, one button-like link, a closing line.
    fn compose(
        subject: String,
        greeting: String,
        paragraphs: &[String],
        link: (&str, &str),
        closing: &str,
    ) -> Mail {
        let (link_text, url) = link;
        let mut text = format!("{greeting}\n\n");
        for p in paragraphs {
            text.push_str(p);
            text.push_str("\n\n");
        }
        text.push_str(&format!("{link_text}: {url}\n\n{closing}\n"));
        let mut html = format!(
            "<!DOCTYPE html><html><body style=\"font-family:sans-serif;line-height:1.5\"><p>{}</p>",
            escape(&greeting)
        );
        for p in paragraphs {
            html.push_str(&format!("<p>{}</p>", escape(p)));
        }
        html.push_str(&format!(
            "<p><a href=\"{}\" style=\"display:inline-block;padding:10px 16px;background:#1f5fbf;color:#fff;border-radius:8px;text-decoration:none\">{}</a></p><p style=\"color:#4f5b6b\">{}</p></body></html>",
            escape(url),
            escape(link_text),
            escape(closing)
        ));
        Mail {
            subject,
            text,
            html,
        }
    }

    /// An invitation to join the workspace, with the link to set a password.
    pub fn invitation(l: Locale, name: &str, inviter: &str, link: &str, days: i64) -> Mail {
        let (subject, greeting, body, button, closing) = match l {
            Locale::En => (
                format!("{inviter} invited you to Rubrica"),
                format!("Hello {name},"),
                vec![
                    format!("{inviter} invited you to work on the team's contacts in Rubrica."),
                    format!("Choose your password from this link within {days} days; it works once."),
                ],
                "Choose your password",
                "If you did not expect this invitation, you can ignore this email.",
            ),
            Locale::It => (
                format!("{inviter} ti ha invitato su Rubrica"),
                format!("Ciao {name},"),
                vec![
                    format!("{inviter} ti ha invitato a lavorare sui contatti del team in Rubrica."),
                    format!("Scegli la tua password da questo link entro {days} giorni; funziona una volta sola."),
                ],
                "Scegli la password",
                "Se non aspettavi questo invito, puoi ignorare questa email.",
            ),
        };
        Mail::compose(subject, greeting, &body, (button, link), closing)
    }

    /// A link to choose a new password (valid for `hours`, once).
    pub fn password_reset(l: Locale, name: &str, link: &str, hours: i64) -> Mail {
        let (subject, greeting, body, button, closing) = match l {
            Locale::En => (
                "Choose a new Rubrica password".to_string(),
                format!("Hello {name},"),
                vec![format!(
                    "Someone asked for a new password for your Rubrica account. The link works once, for {hours} hours."
                )],
                "Choose a new password",
                "If it wasn't you, ignore this email: your password stays as it is. Can't find our emails? Check your spam folder.",
            ),
            Locale::It => (
                "Scegli una nuova password per Rubrica".to_string(),
                format!("Ciao {name},"),
                vec![format!(
                    "È stata richiesta una nuova password per il tuo account Rubrica. Il link funziona una volta sola, per {hours} ore."
                )],
                "Scegli una nuova password",
                "Se non sei stato tu, ignora questa email: la tua password resta quella di prima. Non trovi le nostre email? Controlla nello spam.",
            ),
        };
        Mail::compose(subject, greeting, &body, (button, link), closing)
    }

    /// Tells a user they now own a contact.
    pub fn new_owner(l: Locale, name: &str, by: &str, contact: &str, link: &str) -> Mail {
        let (subject, greeting, body, button, closing) = match l {
            Locale::En => (
                format!("{contact} is now yours"),
                format!("Hello {name},"),
                vec![format!("{by} made you the owner of the contact {contact}.")],
                "Open the contact",
                "You get this email because you own this contact in Rubrica.",
            ),
            Locale::It => (
                format!("{contact} ora è tuo"),
                format!("Ciao {name},"),
                vec![format!("{by} ti ha assegnato il contatto {contact}.")],
                "Apri il contatto",
                "Ricevi questa email perché sei il proprietario di questo contatto in Rubrica.",
            ),
        };
        Mail::compose(subject, greeting, &body, (button, link), closing)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_escaped_in_the_html_and_links_are_in_both_parts() {
        let mail = Mail::new_owner(
            Locale::En,
            "Anna <b>",
            "Bruno",
            "Rossi & Figli",
            "https://crm.example.it/contacts/1",
        );
        assert_eq!(mail.subject, "Rossi & Figli is now yours");
        assert!(mail.html.contains("Rossi &amp; Figli"));
        assert!(mail.html.contains("Anna &lt;b&gt;"));
        assert!(mail.text.contains("https://crm.example.it/contacts/1"));
        assert!(mail
            .html
            .contains("href=\"https://crm.example.it/contacts/1\""));
    }

    #[tokio::test]
    async fn smtp_settings_are_checked_at_start() {
        assert!(Mailer::new("smtp://127.0.0.1:2525", "Rubrica <crm@example.it>").is_ok());
        assert!(matches!(
            Mailer::new("http://example.it", "crm@example.it"),
            Err(MailConfigError::Url(_))
        ));
        assert!(matches!(
            Mailer::new("smtp://127.0.0.1:2525", "not an address"),
            Err(MailConfigError::From(_))
        ));
    }
}

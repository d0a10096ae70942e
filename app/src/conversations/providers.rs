//! SMS and WhatsApp: the providers text messages go through, behind one trait
//! ([`TextProvider`]), and the signatures their webhooks carry. Server-only.
//!
//! - SMS: a Twilio-compatible API (`POST {api}/2010-04-01/Accounts/{sid}/Messages.json`, form
//!   fields `To`, `From`, `Body`, `StatusCallback`, basic auth, `I-Twilio-Idempotency-Token`).
//! - WhatsApp: the WhatsApp Cloud API (`POST {api}/{phone number id}/messages`, JSON, a bearer
//!   token; our key travels as `biz_opaque_callback_data` and comes back in status webhooks).
//!
//! A refusal says whether trying again may help: a 429, a 5xx, a timeout or no connection may
//! pass later; any other 4xx (a bad number, bad credentials) will not, and keeps the provider's
//! words for the thread.

use std::{future::Future, time::Duration};

use base64::Engine;
use hmac::{Hmac, Mac};
use serde::Deserialize;

use super::Channel;

/// A Twilio-compatible SMS API.
#[derive(Clone)]
pub struct TwilioSms {
    /// `https://api.twilio.com`, or a compatible provider's address.
    pub api_url: String,
    pub account_sid: String,
    pub auth_token: String,
    /// The sending number (E.164) or sender name.
    pub from: String,
}

/// The WhatsApp Cloud API.
#[derive(Clone)]
pub struct WhatsAppCloud {
    /// `https://graph.facebook.com/v21.0`.
    pub api_url: String,
    pub token: String,
    pub phone_number_id: String,
    /// Signs webhooks (`X-Hub-Signature-256`).
    pub app_secret: String,
    /// What Meta sends back when the webhook is registered.
    pub verify_token: String,
}

// Credentials never go to logs.
impl std::fmt::Debug for TwilioSms {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TwilioSms({}, from {})", self.api_url, self.from)
    }
}

impl std::fmt::Debug for WhatsAppCloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "WhatsAppCloud({}, {})",
            self.api_url, self.phone_number_id
        )
    }
}

/// The providers set up for this workspace, and one HTTP client for all of them.
#[derive(Clone, Debug, Default)]
pub struct Providers {
    pub sms: Option<TwilioSms>,
    pub whatsapp: Option<WhatsAppCloud>,
    http: reqwest::Client,
}

impl Providers {
    pub fn new(sms: Option<TwilioSms>, whatsapp: Option<WhatsAppCloud>) -> Providers {
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(20))
            .connect_timeout(Duration::from_secs(5))
            .build()
            .unwrap_or_default();
        Providers {
            sms: sms.map(|mut p| {
                p.api_url = p.api_url.trim_end_matches('/').to_string();
                p
            }),
            whatsapp: whatsapp.map(|mut p| {
                p.api_url = p.api_url.trim_end_matches('/').to_string();
                p
            }),
            http,
        }
    }

    pub fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// The text channels a provider is set up for.
    pub fn set_up(&self) -> Vec<Channel> {
        let mut channels = Vec::new();
        if self.sms.is_some() {
            channels.push(Channel::Sms);
        }
        if self.whatsapp.is_some() {
            channels.push(Channel::WhatsApp);
        }
        channels
    }
}

/// One text message to hand to a provider.
#[derive(Debug, Clone)]
pub struct Text<'a> {
    /// The contact's number, E.164 (`+393331234567`).
    pub to: &'a str,
    pub body: &'a str,
    /// The message's key, the same at every attempt: a provider that saw it already knows it.
    pub key: &'a str,
    /// Where the provider reports what became of it.
    pub status_url: String,
}

/// Why a provider did not take a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Trying again will not help (a bad number, bad credentials).
    pub permanent: bool,
    pub reason: String,
}

impl Refusal {
    fn from_status(status: reqwest::StatusCode, reason: String) -> Refusal {
        let transient = status == reqwest::StatusCode::TOO_MANY_REQUESTS
            || status == reqwest::StatusCode::REQUEST_TIMEOUT
            || status.is_server_error();
        Refusal {
            permanent: !transient,
            reason: format!("{}: {reason}", status.as_u16()),
        }
    }

    fn unreachable(e: reqwest::Error) -> Refusal {
        Refusal {
            permanent: false,
            reason: format!("the provider could not be reached: {e}"),
        }
    }
}

/// A provider that sends text messages. Answers the provider's id for the message.
pub trait TextProvider {
    fn send(
        &self,
        http: &reqwest::Client,
        text: &Text<'_>,
    ) -> impl Future<Output = Result<String, Refusal>> + Send;
}

/// A provider's words with its error code: `Invalid number (code 21211)`.
fn with_code(message: String, code: Option<i64>) -> String {
    match code {
        Some(code) => format!("{message} (code {code})"),
        None => message,
    }
}

/// What became of a request to a provider: the message id `accepted` reads from a successful
/// answer, or a refusal in the words `refused` reads from the answer (else the answer itself).
async fn answer(
    sent: Result<reqwest::Response, reqwest::Error>,
    accepted: impl FnOnce(&[u8]) -> Option<String>,
    refused: impl FnOnce(&[u8]) -> Option<String>,
) -> Result<String, Refusal> {
    let response = sent.map_err(Refusal::unreachable)?;
    let status = response.status();
    let body = response.bytes().await.map_err(Refusal::unreachable)?;
    if status.is_success() {
        return accepted(&body).ok_or_else(|| Refusal {
            permanent: false,
            reason: "the provider's answer had no message id".into(),
        });
    }
    let reason = refused(&body)
        .unwrap_or_else(|| String::from_utf8_lossy(&body).chars().take(300).collect());
    Err(Refusal::from_status(status, reason))
}

impl TextProvider for TwilioSms {
    async fn send(&self, http: &reqwest::Client, text: &Text<'_>) -> Result<String, Refusal> {
        #[derive(Deserialize)]
        struct Created {
            sid: String,
        }
        #[derive(Deserialize)]
        struct Problem {
            message: String,
            code: Option<i64>,
        }
        let url = format!(
            "{}/2010-04-01/Accounts/{}/Messages.json",
            self.api_url, self.account_sid
        );
        let sent = http
            .post(url)
            .basic_auth(&self.account_sid, Some(&self.auth_token))
            .header("I-Twilio-Idempotency-Token", text.key)
            .form(&[
                ("To", text.to),
                ("From", self.from.as_str()),
                ("Body", text.body),
                ("StatusCallback", text.status_url.as_str()),
            ])
            .send()
            .await;
        answer(
            sent,
            |body| serde_json::from_slice::<Created>(body).ok().map(|c| c.sid),
            |body| {
                serde_json::from_slice::<Problem>(body)
                    .ok()
                    .map(|p| with_code(p.message, p.code))
            },
        )
        .await
    }
}

impl TextProvider for WhatsAppCloud {
    async fn send(&self, http: &reqwest::Client, text: &Text<'_>) -> Result<String, Refusal> {
        #[derive(Deserialize)]
        struct Sent {
            messages: Vec<SentId>,
        }
        #[derive(Deserialize)]
        struct SentId {
            id: String,
        }
        #[derive(Deserialize)]
        struct Failure {
            error: ErrorBody,
        }
        #[derive(Deserialize)]
        struct ErrorBody {
            message: String,
            code: Option<i64>,
        }
        let url = format!("{}/{}/messages", self.api_url, self.phone_number_id);
        let sent = http
            .post(url)
            .bearer_auth(&self.token)
            .json(&serde_json::json!({
                "messaging_product": "whatsapp",
                "recipient_type": "individual",
                "to": text.to.trim_start_matches('+'),
                "type": "text",
                "text": { "preview_url": false, "body": text.body },
                "biz_opaque_callback_data": text.key,
            }))
            .send()
            .await;
        answer(
            sent,
            |body| {
                serde_json::from_slice::<Sent>(body)
                    .ok()
                    .and_then(|s| s.messages.into_iter().next())
                    .map(|m| m.id)
            },
            |body| {
                serde_json::from_slice::<Failure>(body)
                    .ok()
                    .map(|f| with_code(f.error.message, f.error.code))
            },
        )
        .await
    }
}

/// Twilio's `X-Twilio-Signature` is base64 of this HMAC-SHA1, keyed by the auth token, over the
/// URL it called followed by every posted field's name and value, sorted by name.
fn twilio_mac(auth_token: &str, url: &str, fields: &[(String, String)]) -> Hmac<sha1::Sha1> {
    let mut sorted: Vec<&(String, String)> = fields.iter().collect();
    sorted.sort();
    let mut mac = Hmac::<sha1::Sha1>::new_from_slice(auth_token.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(url.as_bytes());
    for (name, value) in sorted {
        mac.update(name.as_bytes());
        mac.update(value.as_bytes());
    }
    mac
}

pub fn twilio_signature(auth_token: &str, url: &str, fields: &[(String, String)]) -> String {
    let mac = twilio_mac(auth_token, url, fields);
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// Whether `signature` is Twilio's for this request (compared in constant time).
pub fn twilio_signed(
    auth_token: &str,
    url: &str,
    fields: &[(String, String)],
    signature: &str,
) -> bool {
    base64::engine::general_purpose::STANDARD
        .decode(signature.trim())
        .is_ok_and(|given| {
            twilio_mac(auth_token, url, fields)
                .verify_slice(&given)
                .is_ok()
        })
}

/// Meta's `X-Hub-Signature-256` is `sha256=` and the hex of this HMAC-SHA256 of the raw body,
/// keyed by the app secret.
fn whatsapp_mac(app_secret: &str, body: &[u8]) -> Hmac<sha2::Sha256> {
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(app_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(body);
    mac
}

pub fn whatsapp_signature(app_secret: &str, body: &[u8]) -> String {
    let mac = whatsapp_mac(app_secret, body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// Whether `header` is Meta's signature of `body` (compared in constant time).
pub fn whatsapp_signed(app_secret: &str, body: &[u8], header: &str) -> bool {
    header
        .trim()
        .strip_prefix("sha256=")
        .and_then(|h| hex::decode(h).ok())
        .is_some_and(|given| whatsapp_mac(app_secret, body).verify_slice(&given).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twilio_signatures_follow_twilio_s_algorithm() {
        // The fields of Twilio's "Webhooks security" example; the signature was computed apart,
        // with Python's hmac module, from the algorithm as Twilio documents it.
        let fields: Vec<(String, String)> = [
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let url = "https://mycompany.com/myapp";
        let signature = twilio_signature("12345", url, &fields);
        assert_eq!(signature, "3KI2uRuYyAdhZIJXcpU0izDUzWI=");
        assert!(twilio_signed("12345", url, &fields, &signature));
        assert!(!twilio_signed(
            "12345",
            "https://mycompany.com/other",
            &fields,
            &signature
        ));
        assert!(!twilio_signed("other", url, &fields, &signature));
    }

    #[test]
    fn whatsapp_signatures_cover_the_whole_body() {
        let body = br#"{"object":"whatsapp_business_account"}"#;
        let signature = whatsapp_signature("secret", body);
        assert!(signature.starts_with("sha256="));
        assert!(whatsapp_signed("secret", body, &signature));
        assert!(!whatsapp_signed("secret", b"{}", &signature));
        assert!(!whatsapp_signed("secret", body, "sha256=zz"));
    }

    #[test]
    fn rate_limits_and_server_errors_are_worth_retrying_other_refusals_are_not() {
        let status = |code| reqwest::StatusCode::from_u16(code).unwrap();
        assert!(!Refusal::from_status(status(429), "slow down".into()).permanent);
        assert!(!Refusal::from_status(status(503), "down".into()).permanent);
        let bad = Refusal::from_status(status(400), "not a number".into());
        assert!(bad.permanent);
        assert_eq!(bad.reason, "400: not a number");
    }
}

//! Merge fields: `{{contact.first_name}}`, `{{user.name}}`, `{{workspace.name}}`… in a message,
//! replaced by the contact's, the writer's and the workspace's values. The same code draws the
//! composer's live preview in the browser and renders the message again, with the contact's data
//! of that moment, when the dispatcher sends it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{
    contacts::{standard::Field, Contact},
    fields::{CardField, Layout},
    i18n::Locale,
};

/// A merge field the composer offers under **Insert field**.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergeField {
    /// What goes between the braces: `contact.first_name`.
    pub key: String,
    /// How the menu names it: `Contact: First name`.
    pub label: String,
}

impl MergeField {
    /// The text inserted into the message.
    pub fn token(&self) -> String {
        format!("{{{{{}}}}}", self.key)
    }
}

/// The writer of a message and the workspace it goes from, as merge fields read them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sender {
    pub user_name: String,
    pub user_email: String,
    pub workspace_name: String,
    pub workspace_email: String,
}

impl Sender {
    /// Someone writing from this workspace: its name and address are `MAIL_FROM`'s.
    #[cfg(feature = "ssr")]
    pub fn new(user_name: &str, user_email: &str, mail: &crate::mail::MailSettings) -> Sender {
        let from = mail.mailer.as_ref().map(|m| m.from());
        Sender {
            user_name: user_name.to_string(),
            user_email: user_email.to_string(),
            workspace_name: from
                .and_then(|f| f.name.clone())
                .unwrap_or_else(|| "Rubrica".to_string()),
            workspace_email: from.map(|f| f.email.to_string()).unwrap_or_default(),
        }
    }

    /// The signed-in `user`, writing.
    #[cfg(feature = "ssr")]
    pub fn of(user: &crate::auth::CurrentUser) -> Sender {
        Sender::new(&user.name, &user.email, &crate::state::app_state().mail)
    }
}

/// A custom field's key in merge fields: its name in lower case, words joined by `_`
/// (`Data rinnovo` → `contact.data_rinnovo`).
pub fn custom_key(name: &str) -> String {
    let mut key = String::new();
    for word in name
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
    {
        if !key.is_empty() {
            key.push('_');
        }
        key.extend(word.chars().flat_map(char::to_lowercase));
    }
    format!("contact.{key}")
}

/// Every merge field, in the order of the card, then the writer's and the workspace's.
pub fn fields(layout: &Layout, l: Locale) -> Vec<MergeField> {
    let contact = l.t("Contact", "Contatto");
    let mut all: Vec<MergeField> = layout
        .fields()
        .map(|f| match &f.field {
            CardField::Standard(field) => MergeField {
                key: format!("contact.{}", field.key()),
                label: format!("{contact}: {}", field.label(l)),
            },
            CardField::Custom(custom) => MergeField {
                key: custom_key(&custom.name),
                label: format!("{contact}: {}", custom.name),
            },
        })
        .collect();
    // A layout without folders (not loaded) still offers the standard fields.
    if all.is_empty() {
        all = Field::ALL
            .into_iter()
            .map(|field| MergeField {
                key: format!("contact.{}", field.key()),
                label: format!("{contact}: {}", field.label(l)),
            })
            .collect();
    }
    let (me, workspace) = (l.t("You", "Tu"), l.t("Workspace", "Workspace"));
    let name = l.t("Name", "Nome");
    let full_name = l.t("Full name", "Nome completo");
    for (key, group, label) in [
        ("contact.full_name", contact, full_name),
        ("user.name", me, name),
        ("user.email", me, "Email"),
        ("workspace.name", workspace, name),
        ("workspace.email", workspace, "Email"),
    ] {
        all.push(MergeField {
            key: key.to_string(),
            label: format!("{group}: {label}"),
        });
    }
    all
}

/// The values merge fields stand for, for one contact and one writer. An empty field has no
/// value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MergeValues(BTreeMap<String, String>);

impl MergeValues {
    pub fn new(contact: &Contact, layout: &Layout, sender: &Sender, l: Locale) -> MergeValues {
        let mut values = BTreeMap::new();
        for field in Field::ALL {
            values.insert(
                format!("contact.{}", field.key()),
                field.read(contact, layout, l),
            );
        }
        for f in layout.fields() {
            if let CardField::Custom(custom) = &f.field {
                let value = contact
                    .custom
                    .get(&custom.id)
                    .map(|stored| custom.display(stored, l))
                    .unwrap_or_default();
                values.insert(custom_key(&custom.name), value);
            }
        }
        values.insert("contact.full_name".into(), contact.display_name.clone());
        values.insert("user.name".into(), sender.user_name.clone());
        values.insert("user.email".into(), sender.user_email.clone());
        values.insert("workspace.name".into(), sender.workspace_name.clone());
        values.insert("workspace.email".into(), sender.workspace_email.clone());
        values.retain(|_, v| !v.trim().is_empty());
        MergeValues(values)
    }

    /// Whether `key` is a merge field at all (empty or not).
    fn knows(key: &str, layout: &Layout) -> bool {
        key.strip_prefix("contact.")
            .is_some_and(|k| k == "full_name" || Field::ALL.iter().any(|f| f.key() == k))
            || matches!(
                key,
                "user.name" | "user.email" | "workspace.name" | "workspace.email"
            )
            || layout.fields().any(|f| match &f.field {
                CardField::Custom(custom) => custom_key(&custom.name) == key,
                CardField::Standard(_) => false,
            })
    }
}

/// A message with its merge fields replaced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rendered {
    pub text: String,
    /// Merge fields that had no value for this contact (they become nothing).
    pub empty: Vec<String>,
    /// `{{…}}` that name no merge field (they stay as written).
    pub unknown: Vec<String>,
}

/// Replaces every `{{key}}` in `template` (spaces inside the braces allowed). An empty field
/// becomes nothing, and is listed; an unknown one stays as written, and is listed.
pub fn render(template: &str, values: &MergeValues, layout: &Layout) -> Rendered {
    let mut out = Rendered::default();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        let Some(len) = rest[start + 2..].find("}}") else {
            break;
        };
        out.text.push_str(&rest[..start]);
        let key = rest[start + 2..start + 2 + len].trim();
        let whole = &rest[start..start + 2 + len + 2];
        match values.0.get(key) {
            Some(value) => out.text.push_str(value),
            None if MergeValues::knows(key, layout) => {
                if !out.empty.iter().any(|k| k == key) {
                    out.empty.push(key.to_string());
                }
            }
            None => {
                out.text.push_str(whole);
                if !out.unknown.iter().any(|k| k == key) {
                    out.unknown.push(key.to_string());
                }
            }
        }
        rest = &rest[start + 2 + len + 2..];
    }
    out.text.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        contacts::ContactKind,
        fields::{CustomField, FieldType, LayoutField, LayoutFolder},
    };
    use uuid::Uuid;

    fn contact() -> Contact {
        let none = || None::<String>;
        Contact {
            id: Uuid::now_v7(),
            kind: ContactKind::Person,
            display_name: "Giulia Bianchi".into(),
            first_name: Some("Giulia".into()),
            last_name: Some("Bianchi".into()),
            email: none(),
            phone: Some("+393331234567".into()),
            date_of_birth: None,
            contact_source: none(),
            contact_type_id: None,
            business_name: none(),
            street_address: none(),
            city: none(),
            country: none(),
            state: none(),
            postal_code: none(),
            website: none(),
            time_zone: none(),
            role: none(),
            gender: none(),
            lead_status: none(),
            utm_source: none(),
            utm_medium: none(),
            utm_campaign: none(),
            email_subscription: "subscribed".into(),
            owner_id: None,
            visibility: Default::default(),
            dnd: Default::default(),
            version: 1,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
            custom: Default::default(),
        }
    }

    fn layout(renewal: Uuid) -> Layout {
        Layout {
            folders: vec![LayoutFolder {
                id: Uuid::nil(),
                standard: None,
                name: Some("Contratto".into()),
                fields: vec![LayoutField {
                    id: Uuid::nil(),
                    field: CardField::Custom(CustomField {
                        id: renewal,
                        name: "Data rinnovo".into(),
                        field_type: FieldType::Date,
                        options: vec![],
                    }),
                }],
            }],
            contact_types: vec![],
        }
    }

    #[test]
    fn fields_are_replaced_by_the_contact_s_and_the_writer_s_values() {
        let renewal = Uuid::now_v7();
        let layout = layout(renewal);
        let mut c = contact();
        c.custom.insert(renewal, "2027-03-01".into());
        let sender = Sender {
            user_name: "Marco Rossi".into(),
            ..Sender::default()
        };
        let values = MergeValues::new(&c, &layout, &sender, Locale::It);
        let out = render(
            "Ciao {{ contact.first_name }}, rinnovo il {{contact.data_rinnovo}} ({{contact.phone}}). {{user.name}}",
            &values,
            &layout,
        );
        assert_eq!(
            out.text,
            "Ciao Giulia, rinnovo il 01/03/2027 (333 123 4567). Marco Rossi"
        );
        assert!(out.empty.is_empty() && out.unknown.is_empty());
    }

    #[test]
    fn an_empty_field_is_listed_and_an_unknown_one_left_as_written() {
        let layout = layout(Uuid::now_v7());
        let values = MergeValues::new(&contact(), &layout, &Sender::default(), Locale::En);
        let out = render(
            "{{contact.city}}|{{contact.nickname}}|{{contact.data_rinnovo}}|{{oops",
            &values,
            &layout,
        );
        assert_eq!(out.text, "|{{contact.nickname}}||{{oops");
        assert_eq!(out.empty, ["contact.city", "contact.data_rinnovo"]);
        assert_eq!(out.unknown, ["contact.nickname"]);
    }

    #[test]
    fn custom_fields_get_keys_from_their_names() {
        assert_eq!(custom_key("Data rinnovo"), "contact.data_rinnovo");
        assert_eq!(custom_key("  Città / Zona "), "contact.città_zona");
    }
}

//! The team: who works in the workspace, as admin or member. Admins invite people by email (or
//! hand them the link when email is not set up), disable them (their sessions end at once), and
//! send password reset links; anyone can ask for a reset link for their own email. A link works
//! once: an invitation for 7 days, a reset for 6 hours.

mod components;
#[cfg(feature = "ssr")]
pub mod store;

pub use components::{PasswordRoute, TeamSettingsPage};

use leptos::{prelude::*, server_fn::codec::Json};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::{
    auth::{parse_user_name, Email},
    error::{AppError, AppResult, FieldError, Problem},
};

/// Where someone is with their account.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum MemberStatus {
    Active,
    /// Invited, no password chosen yet.
    Invited,
    Disabled,
}

/// A user of the workspace, as the team sees them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub id: Uuid,
    pub name: String,
    pub email: String,
    pub is_admin: bool,
    pub status: MemberStatus,
}

/// What became of a password link: emailed, or to be handed over by the admin (no email set up,
/// or the mail server refused it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkSent {
    pub emailed: bool,
    /// The link itself, when it was not emailed.
    pub link: Option<String>,
    /// Email is set up but sending failed.
    pub send_failed: bool,
}

/// What a password link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LinkPurpose {
    Invite,
    Reset,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Invite => "invite",
            LinkPurpose::Reset => "reset",
        }
    }

    /// How long a link stays good: a week to accept an invitation, six hours to reset a password
    /// (as in the help pages Rubrica grew from).
    pub fn lifetime(self) -> chrono::Duration {
        match self {
            LinkPurpose::Invite => chrono::Duration::days(7),
            LinkPurpose::Reset => chrono::Duration::hours(6),
        }
    }
}

/// Whose link it is, for the page that sets the password.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkHolder {
    pub name: String,
    pub email: String,
    pub purpose: LinkPurpose,
}

/// The validated invitation form.
#[derive(Debug, Clone)]
pub struct NewMember {
    pub name: String,
    pub email: Email,
    pub is_admin: bool,
}

impl NewMember {
    pub fn parse(name: &str, email: &str, role: &str) -> AppResult<NewMember> {
        let name = parse_user_name(name);
        let email = Email::parse(email);
        let role = match role {
            "admin" => Ok(true),
            "member" => Ok(false),
            _ => Err(Problem::NotInList),
        };
        match (name, email, role) {
            (Ok(name), Ok(email), Ok(is_admin)) => Ok(NewMember {
                name,
                email,
                is_admin,
            }),
            (name, email, role) => Err(AppError::Invalid(
                [
                    ("name", name.err()),
                    ("email", email.err()),
                    ("role", role.err()),
                ]
                .into_iter()
                .filter_map(|(f, p)| p.map(|p| FieldError::new(f, p)))
                .collect(),
            )),
        }
    }
}

/// Everyone in the workspace, by name (owners and followers are chosen from them).
#[server(input = Json)]
pub async fn team_members() -> AppResult<Vec<Member>> {
    crate::auth::ssr::current_user()?;
    store::members(&crate::state::db()).await
}

/// Invites someone: their account exists at once (they can be made owner of contacts), and they
/// choose a password from the link.
#[server(input = Json)]
pub async fn invite_member(name: String, email: String, role: String) -> AppResult<LinkSent> {
    let admin = crate::auth::ssr::current_admin()?;
    let new = NewMember::parse(&name, &email, &role)?;
    let state = crate::state::app_state();
    let id = store::invite(&state.db, &new).await?;
    store::send_link(&state, &admin, id, crate::i18n::request_locale()).await
}

/// Sends a user a new link: an invitation again if they never chose a password, else a password
/// reset. Earlier links of theirs stop working.
#[server(input = Json)]
pub async fn send_password_link(user_id: Uuid) -> AppResult<LinkSent> {
    let admin = crate::auth::ssr::current_admin()?;
    let state = crate::state::app_state();
    store::send_link(&state, &admin, user_id, crate::i18n::request_locale()).await
}

/// Makes a user an admin or a member. The workspace always keeps an active admin, and admins
/// don't demote themselves.
#[server(input = Json)]
pub async fn set_member_role(user_id: Uuid, admin: bool) -> AppResult<Vec<Member>> {
    let me = crate::auth::ssr::current_admin()?;
    if me.id == user_id {
        return Err(AppError::invalid("role", Problem::NotYourself));
    }
    let state = crate::state::app_state();
    state
        .sessions
        .change(&state.db, move |db| async move {
            store::set_admin(&db, user_id, admin).await
        })
        .await?;
    store::members(&state.db).await
}

/// Disables a user (their sessions end at once; they can't sign in) or enables them again.
#[server(input = Json)]
pub async fn set_member_disabled(user_id: Uuid, disabled: bool) -> AppResult<Vec<Member>> {
    let me = crate::auth::ssr::current_admin()?;
    if me.id == user_id {
        return Err(AppError::invalid("status", Problem::NotYourself));
    }
    let state = crate::state::app_state();
    state
        .sessions
        .change(&state.db, move |db| async move {
            store::set_disabled(&db, user_id, disabled).await
        })
        .await?;
    store::members(&state.db).await
}

/// "Forgot your password?": emails a reset link if the address belongs to an active user. The
/// answer is the same either way, so it tells nobody who has an account.
#[server]
pub async fn request_password_reset(email: String) -> AppResult<()> {
    let state = crate::state::app_state();
    let key = format!("reset:{}", email.trim().to_lowercase());
    crate::auth::ssr::throttle::attempt(&state.db, &key, crate::db::now()).await?;
    let email = Email::parse(&email).map_err(|p| AppError::invalid("email", p))?;
    store::request_reset(&state, &email, crate::i18n::request_locale()).await
}

/// Whose a password link is, if it still works.
#[server(input = Json)]
pub async fn password_link(token: String) -> AppResult<LinkHolder> {
    store::link_holder(&crate::state::db(), &token)
        .await?
        .ok_or_else(|| AppError::invalid("token", Problem::LinkExpired))
}

/// Sets the password from a link (which then stops working), ends the user's other sessions, and
/// signs them in.
#[server]
pub async fn set_password(token: String, password: String) -> AppResult<()> {
    let password =
        crate::auth::NewPassword::parse(&password).map_err(|p| AppError::invalid("password", p))?;
    let state = crate::state::app_state();
    let user_id = state
        .sessions
        .change(&state.db, move |db| async move {
            store::use_link(&db, &token, &password).await
        })
        .await?;
    crate::auth::ssr::start_session(&state, user_id).await?;
    leptos_axum::redirect("/contacts");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invitation_needs_a_name_an_email_and_a_role() {
        let err = NewMember::parse(" ", "nope", "boss").unwrap_err();
        for field in ["name", "email", "role"] {
            assert!(err.field_problem(field).is_some(), "{field}");
        }
        let ok = NewMember::parse("Bruno", "Bruno@Example.it", "member").unwrap();
        assert_eq!(ok.email.as_str(), "bruno@example.it");
        assert!(!ok.is_admin);
    }
}

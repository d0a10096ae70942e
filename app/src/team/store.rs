//! Users of the workspace and their password links in the database. Server-only.

use uuid::Uuid;

use super::{LinkHolder, LinkPurpose, LinkSent, Member, MemberStatus, NewMember};
use crate::{
    auth::{
        ssr::{new_token, token_hash},
        store::hash_password,
        CurrentUser, Email, NewPassword,
    },
    db::{new_id, now, Db},
    error::{AppError, AppResult, Problem},
    i18n::Locale,
    mail::Mail,
    state::AppState,
    with_db,
};

#[derive(sqlx::FromRow)]
struct MemberRow {
    id: Uuid,
    name: String,
    email: String,
    is_admin: bool,
    invited: bool,
    disabled: bool,
    locale: Option<String>,
}

impl MemberRow {
    fn member(&self) -> Member {
        Member {
            id: self.id,
            name: self.name.clone(),
            email: self.email.clone(),
            is_admin: self.is_admin,
            status: if self.disabled {
                MemberStatus::Disabled
            } else if self.invited {
                MemberStatus::Invited
            } else {
                MemberStatus::Active
            },
        }
    }
}

const MEMBER_COLUMNS: &str = "id, name, email, is_admin, password_hash = '' AS invited, \
    disabled_at IS NOT NULL AS disabled, locale";

pub async fn members(db: &Db) -> AppResult<Vec<Member>> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM users ORDER BY lower(name), id");
    let rows: Vec<MemberRow> = with_db!(db, pool => sqlx::query_as(&sql).fetch_all(pool).await)?;
    Ok(rows.iter().map(MemberRow::member).collect())
}

async fn member(db: &Db, id: Uuid) -> AppResult<MemberRow> {
    let sql = format!("SELECT {MEMBER_COLUMNS} FROM users WHERE id = $1");
    let row: Option<MemberRow> = with_db!(db, pool => sqlx::query_as(&sql)
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    row.ok_or(AppError::NotFound)
}

/// Adds an invited user: no password yet (an empty hash never verifies).
pub async fn invite(db: &Db, new: &NewMember) -> AppResult<Uuid> {
    let id = new_id();
    let at = now();
    let result = with_db!(db, pool => sqlx::query(
        "INSERT INTO users (id, email, name, password_hash, is_admin, created_at, updated_at) \
         VALUES ($1, $2, $3, '', $4, $5, $5)",
    )
    .bind(id)
    .bind(new.email.as_str())
    .bind(&new.name)
    .bind(new.is_admin)
    .bind(at)
    .execute(pool)
    .await
    .map(|r| r.rows_affected()));
    match result {
        Ok(_) => Ok(id),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            Err(AppError::invalid("email", Problem::EmailTaken))
        }
        Err(e) => Err(e.into()),
    }
}

/// A new link for `user_id`; the user's earlier unused links of the same kind stop working.
pub async fn issue_link(db: &Db, user_id: Uuid, purpose: LinkPurpose) -> AppResult<String> {
    let token = new_token();
    let at = now();
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("DELETE FROM password_tokens WHERE user_id = $1 AND purpose = $2 AND used_at IS NULL")
            .bind(user_id)
            .bind(purpose.as_str())
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO password_tokens (token_hash, user_id, purpose, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(token_hash(&token))
        .bind(user_id)
        .bind(purpose.as_str())
        .bind(at)
        .bind(at + purpose.lifetime())
        .execute(&mut *tx)
        .await?;
        tx.commit().await
    }
    .await)?;
    Ok(token)
}

/// Emails `user` the right link (an invitation if they never chose a password, else a reset) in
/// their language (else `locale`, the admin's page's), or hands the link back to show.
pub async fn send_link(
    state: &AppState,
    admin: &CurrentUser,
    user_id: Uuid,
    locale: Locale,
) -> AppResult<LinkSent> {
    let user = member(&state.db, user_id).await?;
    if user.disabled {
        return Err(AppError::invalid("user", Problem::UserUnknown));
    }
    let purpose = if user.invited {
        LinkPurpose::Invite
    } else {
        LinkPurpose::Reset
    };
    let token = issue_link(&state.db, user_id, purpose).await?;
    let link = state.mail.link(&format!("/password-reset/{token}"));
    let Some(mailer) = &state.mail.mailer else {
        return Ok(LinkSent {
            emailed: false,
            link: Some(link),
            send_failed: false,
        });
    };
    let l = user
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(locale);
    let mail = match purpose {
        LinkPurpose::Invite => Mail::invitation(
            l,
            &user.name,
            &admin.name,
            &link,
            purpose.lifetime().num_days(),
        ),
        LinkPurpose::Reset => {
            Mail::password_reset(l, &user.name, &link, purpose.lifetime().num_hours())
        }
    };
    Ok(match mailer.send(&user.name, &user.email, &mail).await {
        Ok(()) => LinkSent {
            emailed: true,
            link: None,
            send_failed: false,
        },
        Err(_) => LinkSent {
            emailed: false,
            link: Some(link),
            send_failed: true,
        },
    })
}

/// "Forgot your password?": a reset link by email to an active user with this address; nothing
/// (and the same answer) for anyone else.
pub async fn request_reset(state: &AppState, email: &Email, locale: Locale) -> AppResult<()> {
    let sql = format!(
        "SELECT {MEMBER_COLUMNS} FROM users WHERE email = $1 AND disabled_at IS NULL AND password_hash <> ''"
    );
    let user: Option<MemberRow> = with_db!(&state.db, pool => sqlx::query_as(&sql)
        .bind(email.as_str())
        .fetch_optional(pool)
        .await)?;
    let Some(user) = user else { return Ok(()) };
    let Some(mailer) = &state.mail.mailer else {
        tracing::warn!("a password reset was asked for, but email is not set up (SMTP_URL)");
        return Ok(());
    };
    let token = issue_link(&state.db, user.id, LinkPurpose::Reset).await?;
    let link = state.mail.link(&format!("/password-reset/{token}"));
    let l = user
        .locale
        .as_deref()
        .and_then(Locale::parse)
        .unwrap_or(locale);
    let hours = LinkPurpose::Reset.lifetime().num_hours();
    // A failure is logged (by `send`) but not told: the answer must not depend on the account.
    let _ = mailer
        .send(
            &user.name,
            &user.email,
            &Mail::password_reset(l, &user.name, &link, hours),
        )
        .await;
    Ok(())
}

/// Whose a link is, while it still works.
pub async fn link_holder(db: &Db, token: &str) -> AppResult<Option<LinkHolder>> {
    let row: Option<(String, String, String)> = with_db!(db, pool => sqlx::query_as(
        "SELECT u.name, u.email, t.purpose FROM password_tokens t JOIN users u ON u.id = t.user_id \
         WHERE t.token_hash = $1 AND t.used_at IS NULL AND t.expires_at > $2 AND u.disabled_at IS NULL",
    )
    .bind(token_hash(token))
    .bind(now())
    .fetch_optional(pool)
    .await)?;
    Ok(row.map(|(name, email, purpose)| LinkHolder {
        name,
        email,
        purpose: if purpose == "invite" {
            LinkPurpose::Invite
        } else {
            LinkPurpose::Reset
        },
    }))
}

/// Uses a link: sets the password, spends the link, ends the user's sessions. Returns the user.
/// Run it through `AppState::sessions.change`, which remembers users.
pub async fn use_link(db: &Db, token: &str, password: &NewPassword) -> AppResult<Uuid> {
    let hash = hash_password(password).await?;
    let at = now();
    let user: Option<Uuid> = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let spent: Option<(Uuid,)> = sqlx::query_as(
            "UPDATE password_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND used_at IS NULL AND expires_at > $2 RETURNING user_id",
        )
        .bind(token_hash(token))
        .bind(at)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((user_id,)) = spent else { return Ok(None) };
        let updated = sqlx::query(
            "UPDATE users SET password_hash = $2, updated_at = $3 WHERE id = $1 AND disabled_at IS NULL",
        )
        .bind(user_id)
        .bind(&hash.0)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if updated == 0 {
            return Ok(None);
        }
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok::<_, sqlx::Error>(Some(user_id))
    }
    .await)?;
    user.ok_or_else(|| AppError::invalid("token", Problem::LinkExpired))
}

/// Whether an active admin other than `except` exists.
async fn another_admin(db: &Db, except: Uuid) -> AppResult<bool> {
    let (count,): (i64,) = with_db!(db, pool => sqlx::query_as(
        "SELECT COUNT(*) FROM users WHERE is_admin AND disabled_at IS NULL AND password_hash <> '' AND id <> $1",
    )
    .bind(except)
    .fetch_one(pool)
    .await)?;
    Ok(count > 0)
}

/// Makes a user an admin or a member. Run it through `AppState::sessions.change`, which
/// remembers users.
pub async fn set_admin(db: &Db, user_id: Uuid, admin: bool) -> AppResult<()> {
    let user = member(db, user_id).await?;
    if user.is_admin && !admin && !another_admin(db, user_id).await? {
        return Err(AppError::invalid("role", Problem::LastAdmin));
    }
    with_db!(db, pool => sqlx::query("UPDATE users SET is_admin = $2, updated_at = $3 WHERE id = $1")
        .bind(user_id)
        .bind(admin)
        .bind(now())
        .execute(pool)
        .await
    .map(|r| r.rows_affected()))?;
    Ok(())
}

/// Disables a user (and ends every session of theirs in the same transaction), or enables them.
/// Run it through `AppState::sessions.change`, which remembers users.
pub async fn set_disabled(db: &Db, user_id: Uuid, disabled: bool) -> AppResult<()> {
    let user = member(db, user_id).await?;
    if disabled && user.is_admin && !another_admin(db, user_id).await? {
        return Err(AppError::invalid("status", Problem::LastAdmin));
    }
    let at = now();
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query("UPDATE users SET disabled_at = $2, updated_at = $3 WHERE id = $1")
            .bind(user_id)
            .bind(disabled.then_some(at))
            .bind(at)
            .execute(&mut *tx)
            .await?;
        if disabled {
            sqlx::query("DELETE FROM sessions WHERE user_id = $1")
                .bind(user_id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// A user's name, email and language, for notifications.
pub async fn contact_details(
    db: &Db,
    user_id: Uuid,
) -> AppResult<(String, String, Option<Locale>)> {
    let row = member(db, user_id).await?;
    Ok((
        row.name,
        row.email,
        row.locale.as_deref().and_then(Locale::parse),
    ))
}

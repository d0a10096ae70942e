//! Contacts in the database. Server-only.

use chrono::{DateTime, NaiveDate, Utc};
use uuid::Uuid;

use super::{
    Contact, ContactKind, ContactListPage, ContactSummary, ListQuery, NewContact, SortOrder,
};
use crate::{
    db::{new_id, now, Db},
    error::AppResult,
    with_db,
};

/// Every stored column a contact is written with (the derived ones are computed from these).
#[derive(Debug, Clone)]
pub struct ContactRecord {
    pub id: Uuid,
    pub kind: ContactKind,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub date_of_birth: Option<NaiveDate>,
    pub contact_source: Option<String>,
    pub contact_type: Option<String>,
    pub business_name: Option<String>,
    pub street_address: Option<String>,
    pub city: Option<String>,
    pub country: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub website: Option<String>,
    pub time_zone: Option<String>,
    pub role: Option<String>,
    pub gender: Option<String>,
    pub lead_status: Option<String>,
    pub utm_source: Option<String>,
    pub utm_medium: Option<String>,
    pub utm_campaign: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ContactRecord {
    /// A record with only what **New contact** asks for.
    pub fn new(new: &NewContact, at: DateTime<Utc>) -> ContactRecord {
        let (kind, first_name, last_name, business_name) = match new {
            NewContact::Person {
                first_name,
                last_name,
            } => (
                ContactKind::Person,
                first_name.clone(),
                last_name.clone(),
                None,
            ),
            NewContact::Company { business_name } => (
                ContactKind::Company,
                None,
                None,
                Some(business_name.clone()),
            ),
        };
        ContactRecord {
            id: new_id(),
            kind,
            first_name,
            last_name,
            email: None,
            phone: None,
            date_of_birth: None,
            contact_source: None,
            contact_type: None,
            business_name,
            street_address: None,
            city: None,
            country: None,
            state: None,
            postal_code: None,
            website: None,
            time_zone: None,
            role: None,
            gender: None,
            lead_status: None,
            utm_source: None,
            utm_medium: None,
            utm_campaign: None,
            created_at: at,
            updated_at: at,
        }
    }

    fn display_name(&self) -> String {
        super::display_name(
            self.first_name.as_deref(),
            self.last_name.as_deref(),
            self.business_name.as_deref(),
            self.kind,
        )
    }

    /// What the search looks in: name, company and email folded to plain lower-case ASCII, and the
    /// phone's digits both international (`39347…`) and national (`347…`).
    fn search_text(&self, display_name: &str) -> String {
        let mut text = fold(&format!(
            "{} {} {}",
            display_name,
            self.business_name.as_deref().unwrap_or_default(),
            self.email.as_deref().unwrap_or_default()
        ));
        if let Some(phone) = &self.phone {
            let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
            text.push(' ');
            text.push_str(&digits);
            if let Some(national) = digits.strip_prefix("39") {
                text.push(' ');
                text.push_str(national);
            }
        }
        text
    }
}

/// Lower-case ASCII, accents removed: "Nicolò" sorts and is found as "nicolo".
fn fold(s: &str) -> String {
    deunicode::deunicode(s).to_lowercase()
}

/// A search box entry normalised the way `search_text` is, or `None` for "everything". Something
/// that looks like a phone number is searched by its digits alone, so "347 123" finds
/// "+39 347 1234567".
fn search_needle(q: &str) -> Option<String> {
    let q = q.trim();
    if q.is_empty() {
        return None;
    }
    let digits = q.chars().filter(char::is_ascii_digit).count();
    let phone_like = digits >= 3
        && q.chars()
            .all(|c| c.is_ascii_digit() || " +-./()".contains(c));
    Some(if phone_like {
        q.chars().filter(char::is_ascii_digit).collect()
    } else {
        fold(q)
    })
}

/// `%needle%` with `LIKE`'s wildcards taken literally.
fn like_pattern(needle: &str) -> String {
    let escaped = needle
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("%{escaped}%")
}

/// Trigram indexes (FTS5 on SQLite, pg_trgm on PostgreSQL) only help from three characters on.
const TRIGRAM: usize = 3;

/// Counting every match of a broad search would read most of the table: past this many, the list
/// says "more than".
pub const COUNT_CAP: i64 = 10_000;

/// Where a list's rows come from: the whole table, or the matches of a search found through the
/// engine's trigram index before they are sorted, so a rare (or absent) name costs an index lookup
/// rather than a walk through a million rows.
struct Source {
    /// A `WITH …` prefix, or empty.
    with: String,
    from: String,
    condition: Option<String>,
}

fn source(db: &Db, needle: Option<&str>, args: &mut Vec<Arg>) -> Source {
    let plain = |condition| Source {
        with: String::new(),
        from: "contacts".into(),
        condition,
    };
    let Some(needle) = needle else {
        return plain(None);
    };
    if needle.chars().count() < TRIGRAM {
        args.push(Arg::Text(like_pattern(needle)));
        return plain(Some(format!(
            "contacts.search_text LIKE ${} ESCAPE '\\'",
            args.len()
        )));
    }
    match db.backend() {
        crate::db::Backend::Sqlite => {
            // A quoted FTS5 phrase: with the trigram tokenizer, a substring match.
            args.push(Arg::Text(format!("\"{}\"", needle.replace('"', "\"\""))));
            Source {
                with: String::new(),
                // CROSS JOIN makes SQLite start from the matches, never from the sort index.
                from: format!(
                    "(SELECT rowid AS match_rowid FROM contacts_fts WHERE contacts_fts MATCH ${}) AS matches \
                     CROSS JOIN contacts ON contacts.rowid = matches.match_rowid",
                    args.len()
                ),
                condition: None,
            }
        }
        crate::db::Backend::Postgres => {
            args.push(Arg::Text(like_pattern(needle)));
            Source {
                // MATERIALIZED keeps the planner from walking the sort index and filtering instead.
                with: format!(
                    "WITH matches AS MATERIALIZED (SELECT id AS match_id FROM contacts \
                     WHERE search_text LIKE ${} ESCAPE '\\') ",
                    args.len()
                ),
                from: "matches JOIN contacts ON contacts.id = matches.match_id".into(),
                condition: None,
            }
        }
    }
}

/// One bound value of a dynamically built query.
enum Arg {
    Text(String),
    Time(DateTime<Utc>),
    Id(Uuid),
}

impl SortOrder {
    /// The column a sort order keys on, and whether it runs high to low.
    fn key(self) -> (&'static str, bool) {
        match self {
            SortOrder::NameAsc => ("sort_name", false),
            SortOrder::NameDesc => ("sort_name", true),
            SortOrder::CreatedAsc => ("created_at", false),
            SortOrder::CreatedDesc => ("created_at", true),
            SortOrder::UpdatedAsc => ("updated_at", false),
            SortOrder::UpdatedDesc => ("updated_at", true),
        }
    }
}

#[derive(sqlx::FromRow)]
struct SummaryRow {
    id: Uuid,
    kind: String,
    display_name: String,
    business_name: Option<String>,
    email: Option<String>,
    phone: Option<String>,
    city: Option<String>,
    sort_name: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl SummaryRow {
    /// The cursor that points at this row in `sort` order: `key~id`.
    fn cursor(&self, sort: SortOrder) -> String {
        let key = match sort.key().0 {
            "sort_name" => self.sort_name.clone(),
            "created_at" => self.created_at.to_rfc3339(),
            _ => self.updated_at.to_rfc3339(),
        };
        format!("{key}~{}", self.id)
    }

    fn into_summary(self) -> ContactSummary {
        ContactSummary {
            id: self.id,
            kind: ContactKind::parse(&self.kind).unwrap_or(ContactKind::Person),
            display_name: self.display_name,
            business_name: self.business_name,
            email: self.email,
            phone: self.phone,
            city: self.city,
            created_at: self.created_at,
            updated_at: self.updated_at,
        }
    }
}

/// A cursor from the URL, checked: a malformed one means "first page", never an error page.
fn parse_cursor(cursor: &str, sort: SortOrder) -> Option<(Arg, Uuid)> {
    let (key, id) = cursor.rsplit_once('~')?;
    let id = Uuid::parse_str(id).ok()?;
    let key = match sort.key().0 {
        "sort_name" => Arg::Text(key.to_string()),
        _ => Arg::Time(DateTime::parse_from_rfc3339(key).ok()?.with_timezone(&Utc)),
    };
    Some((key, id))
}

/// One page of the list. Keyset pagination: the page after (or before) a cursor is found through
/// the `(key, id)` index, never by skipping rows, so page 5,000 costs what page 1 costs.
#[tracing::instrument(skip(db), err)]
pub async fn list(db: &Db, query: &ListQuery, page_size: usize) -> AppResult<ContactListPage> {
    let (key_column, descending) = query.sort.key();
    let mut args = Vec::new();
    let needle = search_needle(&query.q);
    let source = source(db, needle.as_deref(), &mut args);
    let mut conditions: Vec<String> = source.condition.iter().cloned().collect();
    let count_sql = if needle.is_some() {
        format!(
            "{}SELECT COUNT(*) FROM (SELECT 1 FROM {}{} LIMIT {}) AS capped",
            source.with,
            source.from,
            where_clause(&conditions),
            COUNT_CAP + 1
        )
    } else {
        "SELECT COUNT(*) FROM contacts".to_string()
    };
    let count_args = args.len();

    let (cursor, backwards) = match (&query.after, &query.before) {
        (Some(after), _) => (parse_cursor(after, query.sort), false),
        (None, Some(before)) => (parse_cursor(before, query.sort), true),
        (None, None) => (None, false),
    };
    let backwards = backwards && cursor.is_some();
    // Walking backwards flips both the comparison and the order; the rows are reversed after.
    let high_to_low = descending != backwards;
    if let Some((key, id)) = cursor {
        args.push(key);
        args.push(Arg::Id(id));
        let op = if high_to_low { "<" } else { ">" };
        conditions.push(format!(
            "(contacts.{key_column}, contacts.id) {op} (${}, ${})",
            args.len() - 1,
            args.len()
        ));
    }
    let direction = if high_to_low { "DESC" } else { "ASC" };
    let page_sql = format!(
        "{}SELECT contacts.id, kind, display_name, business_name, email, phone, city, sort_name, \
         created_at, updated_at FROM {}{} \
         ORDER BY contacts.{key_column} {direction}, contacts.id {direction} LIMIT {}",
        source.with,
        source.from,
        where_clause(&conditions),
        page_size + 1
    );

    let (mut rows, total): (Vec<SummaryRow>, i64) = with_db!(db, pool => {
        let mut page = sqlx::query_as::<_, SummaryRow>(&page_sql);
        for arg in &args {
            page = match arg {
                Arg::Text(s) => page.bind(s),
                Arg::Time(t) => page.bind(t),
                Arg::Id(id) => page.bind(id),
            };
        }
        let mut count = sqlx::query_scalar::<_, i64>(&count_sql);
        for arg in &args[..count_args] {
            if let Arg::Text(s) = arg {
                count = count.bind(s);
            }
        }
        let rows = page.fetch_all(pool).await?;
        let total = count.fetch_one(pool).await?;
        Ok::<_, sqlx::Error>((rows, total))
    })?;

    let more_beyond = rows.len() > page_size;
    rows.truncate(page_size);
    if backwards {
        rows.reverse();
    }
    let (has_previous, has_next) = if backwards {
        (more_beyond, true)
    } else {
        (query.after.is_some() && !rows.is_empty(), more_beyond)
    };
    let previous = has_previous
        .then(|| rows.first().map(|r| r.cursor(query.sort)))
        .flatten();
    let next = has_next
        .then(|| rows.last().map(|r| r.cursor(query.sort)))
        .flatten();
    let capped = needle.is_some() && total > COUNT_CAP;
    Ok(ContactListPage {
        items: rows.into_iter().map(SummaryRow::into_summary).collect(),
        total: if capped { COUNT_CAP } else { total },
        total_is_lower_bound: capped,
        next,
        previous,
    })
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

pub async fn get(db: &Db, id: Uuid) -> AppResult<Option<Contact>> {
    let contact: Option<Contact> = with_db!(db, pool => sqlx::query_as("SELECT * FROM contacts WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(contact)
}

#[tracing::instrument(skip(db), err)]
pub async fn create(db: &Db, new: &NewContact) -> AppResult<Uuid> {
    let record = ContactRecord::new(new, now());
    insert_many(db, std::slice::from_ref(&record)).await?;
    Ok(record.id)
}

const INSERT_COLUMNS: &str = "id, kind, first_name, last_name, email, phone, date_of_birth, \
    contact_source, contact_type, business_name, street_address, city, country, state, postal_code, \
    website, time_zone, role, gender, lead_status, utm_source, utm_medium, utm_campaign, \
    sort_name, search_text, display_name, created_at, updated_at";
const INSERT_COLUMN_COUNT: usize = 28;

/// Rows per `INSERT` statement when loading many. PostgreSQL likes big statements; SQLite (through
/// sqlx) slows down quadratically with the number of bound parameters in one statement: measured on
/// 20,000 contacts, 10 rows (280 parameters) a statement take 1.0 s, 100 rows 2.4 s, 500 rows 9.7 s.
fn rows_per_insert(db: &Db) -> usize {
    match db.backend() {
        crate::db::Backend::Sqlite => 10,
        crate::db::Backend::Postgres => 500,
    }
}

/// Inserts contacts in one transaction, many rows per statement (the seed loads a million this way).
pub async fn insert_many(db: &Db, records: &[ContactRecord]) -> AppResult<()> {
    let rows_per_insert = rows_per_insert(db);
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        for chunk in records.chunks(rows_per_insert) {
            let sql = insert_sql(chunk.len());
            let mut insert = sqlx::query(&sql);
            for r in chunk {
                let display_name = r.display_name();
                let search_text = r.search_text(&display_name);
                insert = insert
                    .bind(r.id)
                    .bind(r.kind.as_str())
                    .bind(&r.first_name)
                    .bind(&r.last_name)
                    .bind(&r.email)
                    .bind(&r.phone)
                    .bind(r.date_of_birth)
                    .bind(&r.contact_source)
                    .bind(&r.contact_type)
                    .bind(&r.business_name)
                    .bind(&r.street_address)
                    .bind(&r.city)
                    .bind(&r.country)
                    .bind(&r.state)
                    .bind(&r.postal_code)
                    .bind(&r.website)
                    .bind(&r.time_zone)
                    .bind(&r.role)
                    .bind(&r.gender)
                    .bind(&r.lead_status)
                    .bind(&r.utm_source)
                    .bind(&r.utm_medium)
                    .bind(&r.utm_campaign)
                    .bind(fold(&display_name))
                    .bind(search_text)
                    .bind(display_name)
                    .bind(r.created_at)
                    .bind(r.updated_at);
            }
            insert.execute(&mut *tx).await?;
        }
        tx.commit().await
    }
    .await)?;
    Ok(())
}

/// `INSERT … VALUES ($1, …), ($29, …)` for `rows` rows, columns in the order they are bound above.
fn insert_sql(rows: usize) -> String {
    let mut sql = format!("INSERT INTO contacts ({INSERT_COLUMNS}) VALUES ");
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for col in 0..INSERT_COLUMN_COUNT {
            if col > 0 {
                sql.push_str(", ");
            }
            sql.push_str(&format!("${}", row * INSERT_COLUMN_COUNT + col + 1));
        }
        sql.push(')');
    }
    sql
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db_test;

    fn person(first: &str, last: &str, at: DateTime<Utc>) -> ContactRecord {
        ContactRecord::new(
            &NewContact::Person {
                first_name: Some(first.into()),
                last_name: Some(last.into()),
            },
            at,
        )
    }

    async fn search(db: &Db, q: &str) -> Vec<String> {
        let query = ListQuery {
            q: q.into(),
            ..ListQuery::default()
        };
        list(db, &query, 50)
            .await
            .unwrap()
            .items
            .into_iter()
            .map(|c| c.display_name)
            .collect()
    }

    db_test!(contacts_are_found_by_name_email_phone_and_company, |db| {
        let at = now();
        let mut giulia = person("Giulia", "Bianchi", at);
        giulia.email = Some("giulia.b@libero.it".into());
        giulia.phone = Some("+393471234567".into());
        let mut nicolo = person("Nicolò", "D'Angelo", at);
        nicolo.business_name = Some("Ferramenta Rossi S.r.l.".into());
        let company = ContactRecord::new(
            &NewContact::Company {
                business_name: "Pasticceria 100% Dolce".into(),
            },
            at,
        );
        insert_many(&db, &[giulia, nicolo, company]).await.unwrap();

        assert_eq!(search(&db, "BIANCHI").await, ["Giulia Bianchi"]);
        assert_eq!(search(&db, "libero.it").await, ["Giulia Bianchi"]);
        assert_eq!(
            search(&db, "347 123").await,
            ["Giulia Bianchi"],
            "national digits"
        );
        assert_eq!(
            search(&db, "+39 347").await,
            ["Giulia Bianchi"],
            "international digits"
        );
        assert_eq!(
            search(&db, "nicolo").await,
            ["Nicolò D'Angelo"],
            "accents folded"
        );
        assert_eq!(
            search(&db, "ferramenta").await,
            ["Nicolò D'Angelo"],
            "company"
        );
        assert_eq!(
            search(&db, "100%").await,
            ["Pasticceria 100% Dolce"],
            "% is literal"
        );
        assert!(search(&db, "_").await.is_empty(), "_ is literal");
        assert!(search(&db, "zzz").await.is_empty());
        assert_eq!(search(&db, "  ").await.len(), 3, "blank means everyone");
    });

    db_test!(
        every_sort_order_pages_forwards_and_backwards_without_gaps,
        |db| {
            let start = now();
            let names = [
                "Zeno", "anna", "Bruno", "Carla", "Dario", "Elena", "Fabio", "Gina", "Ugo", "Anna",
            ];
            let records: Vec<_> = names
                .iter()
                .enumerate()
                .map(|(i, name)| {
                    let mut r = person(name, "Test", start - chrono::Duration::minutes(i as i64));
                    // Two contacts share a created_at: the id must break the tie.
                    if i == 9 {
                        r.created_at = start - chrono::Duration::minutes(8);
                    }
                    r.updated_at = start - chrono::Duration::minutes(((i * 7) % 10) as i64);
                    r
                })
                .collect();
            insert_many(&db, &records).await.unwrap();

            // Unsearched (the sort index) and searched (the trigram index: all are "… Test").
            for (q, sort) in ["", "test"]
                .into_iter()
                .flat_map(|q| SortOrder::ALL.map(|sort| (q.to_string(), sort)))
            {
                // Every contact once, in order, on pages of 3, walking forwards…
                let mut forward = Vec::new();
                let mut pages = Vec::new();
                let mut query = ListQuery {
                    q: q.clone(),
                    sort,
                    ..ListQuery::default()
                };
                loop {
                    let page = list(&db, &query, 3).await.unwrap();
                    assert_eq!(page.total, 10);
                    assert!(page.items.len() <= 3);
                    forward.extend(page.items.iter().map(|c| c.id));
                    pages.push(page.clone());
                    match page.next {
                        Some(next) => query.after = Some(next),
                        None => break,
                    }
                }
                assert_eq!(forward.len(), 10, "{sort:?}: nothing skipped or repeated");
                let mut unique = forward.clone();
                unique.sort();
                unique.dedup();
                assert_eq!(unique.len(), 10, "{sort:?}");
                assert!(
                    pages[0].previous.is_none(),
                    "the first page has no previous page"
                );

                // …and backwards from the last page gives the same pages.
                let mut backward = Vec::new();
                let mut page = pages.last().unwrap().clone();
                loop {
                    backward.splice(0..0, page.items.iter().map(|c| c.id));
                    match page.previous.clone() {
                        Some(previous) => {
                            page = list(
                                &db,
                                &ListQuery {
                                    sort,
                                    q: q.clone(),
                                    before: Some(previous),
                                    ..ListQuery::default()
                                },
                                3,
                            )
                            .await
                            .unwrap();
                        }
                        None => break,
                    }
                }
                assert_eq!(backward, forward, "{sort:?}");
            }

            let by_name = list(&db, &ListQuery::default(), 10).await.unwrap();
            let first_names: Vec<_> = by_name
                .items
                .iter()
                .map(|c| c.display_name.as_str())
                .collect();
            // Case does not split the alphabet: both Annas come first (in id order), then Bruno.
            let mut annas = first_names[..2].to_vec();
            annas.sort();
            assert_eq!(annas, ["Anna Test", "anna Test"]);
            assert_eq!(first_names[2], "Bruno Test");
            assert_eq!(first_names.last(), Some(&"Zeno Test"));
        }
    );

    db_test!(
        a_broad_search_says_more_than_rather_than_counting_forever,
        |db| {
            let at = now();
            let many: Vec<_> = (0..=COUNT_CAP)
                .map(|i| person(&format!("Persona{i}"), "Rossi", at))
                .collect();
            insert_many(&db, &many).await.unwrap();
            let broad = ListQuery {
                q: "rossi".into(),
                ..ListQuery::default()
            };
            let page = list(&db, &broad, 50).await.unwrap();
            assert_eq!((page.total, page.total_is_lower_bound), (COUNT_CAP, true));
            assert_eq!(page.items.len(), 50);
            let everyone = list(&db, &ListQuery::default(), 50).await.unwrap();
            assert_eq!(
                (everyone.total, everyone.total_is_lower_bound),
                (COUNT_CAP + 1, false)
            );
            let one = ListQuery {
                q: "persona123 ".into(),
                ..ListQuery::default()
            };
            let page = list(&db, &one, 50).await.unwrap();
            assert_eq!(
                (page.total, page.total_is_lower_bound),
                (11, false),
                "persona123, persona1230…1239"
            );
        }
    );

    db_test!(a_mangled_cursor_means_the_first_page, |db| {
        insert_many(&db, &[person("Anna", "Rossi", now())])
            .await
            .unwrap();
        let query = ListQuery {
            after: Some("not-a-cursor".into()),
            ..ListQuery::default()
        };
        let page = list(&db, &query, 50).await.unwrap();
        assert_eq!(page.items.len(), 1);
    });
}

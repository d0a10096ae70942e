//! Contacts in the database, and who may see them. Server-only.

use chrono::{DateTime, NaiveDate, Utc};
use sqlx::{FromRow, Row};
use uuid::Uuid;

use super::{
    standard::Field, Contact, ContactKind, ContactListPage, ContactNav, ContactSummary, ListPlace,
    ListQuery, ListTotal, NewContact, SortOrder,
};
use crate::{
    audit::{
        store::{Actor, Change},
        what,
    },
    auth::CurrentUser,
    db::{new_id, now, Db},
    error::{AppError, AppResult},
    fields::{FieldRef, Layout},
    record,
    tags::ContactTag,
    with_db,
};

/// The user a read or a write is made for: what they may see decides what they get.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub user: CurrentUser,
}

impl Viewer {
    /// Admins see every contact, private ones included: someone must be able to hand a departed
    /// colleague's contacts on.
    pub fn sees_everything(&self) -> bool {
        self.user.is_admin
    }
}

/// The signed-in user, as a viewer of contacts.
pub fn viewer() -> AppResult<Viewer> {
    Ok(Viewer {
        user: crate::auth::ssr::current_user()?,
    })
}

/// `contacts` rows `viewer` may see, as a condition on `contacts` (with `user` the index of the
/// viewer's id among the bound arguments), or `None` when they see all.
pub(crate) fn visible_condition(viewer: &Viewer, user: usize) -> Option<String> {
    (!viewer.sees_everything()).then(|| {
        format!(
            "(contacts.visibility = 'team' OR contacts.owner_id = ${user} OR EXISTS \
             (SELECT 1 FROM contact_followers f WHERE f.contact_id = contacts.id AND f.user_id = ${user}))"
        )
    })
}

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
    pub contact_type_id: Option<Uuid>,
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
    pub owner_id: Option<Uuid>,
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
            contact_type_id: None,
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
            owner_id: None,
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

/// How a search's rows are found. A trigram index answers "which contacts match" quickly, but
/// not in list order: sorting every match of a common term ("mar": a tenth of a million contacts)
/// costs far more than the page. So a list first counts its matches (capped), and a page is then
/// read the way that costs less for that many.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Plan {
    /// Counting: every match, in no particular order, through the trigram index.
    Count,
    /// Few matches: found through the trigram index, then sorted.
    Sparse,
    /// Many matches: the sort order's own index walked from the cursor, each contact tested,
    /// until the page is full or this many rows have been read; then (the matches lie further
    /// on, as those of the start of a first name do in name order) the page is read as
    /// [`Plan::Sparse`] after all.
    Dense(i64),
    /// A search that is one word, or two with something between, in name order: the ranges of
    /// the terms that contain it, read from the term index in list order, each only as far as
    /// the page, and merged (see [`terms`]).
    Terms(Terms),
}

/// A walk that reads every row if it must (an export walks the list once either way).
pub const WHOLE_WALK: i64 = i64::MAX;

impl Plan {
    /// The cheaper way to read `page_size` rows of a list in `sort` order with `total` matches (at
    /// least that many when `at_least`) among `contacts` contacts: a walk of the sort index meets
    /// a match about every `contacts / total` rows, while sorting costs every match (and at least
    /// [`COUNT_CAP`] when the count stopped there).
    fn for_page(
        total: i64,
        at_least: bool,
        contacts: i64,
        page_size: usize,
        sort: SortOrder,
    ) -> Plan {
        // Name order has an index that holds the searched text, so a walk in it reads no rows of
        // the table: ten times the rows for the same time (20,000 in about 2 ms at a million).
        let window = if sort.key().0 == "sort_name" {
            20_000
        } else {
            2_000
        };
        let walked = (page_size as i64 + 1).saturating_mul(contacts) / total.max(1);
        let window = if total > 0 && walked <= window {
            window
        } else if at_least {
            // More matches than were counted: the walk is shorter than `walked` says, and sorting
            // them all costs more than it; give it room (without the searched text in the index,
            // a long walk costs a table read a row).
            (2 * walked).clamp(window, 20_000)
        } else {
            return Plan::Sparse;
        };
        // A table no longer than the walk needs no end to it (nor the read that finds it).
        Plan::Dense(if contacts <= window {
            WHOLE_WALK
        } else {
            window
        })
    }
}

/// Where a list's rows come from: the whole table, or a search's matches found as `plan` says
/// (see [`Plan`]), so a rare (or absent) name costs an index lookup rather than a walk through a
/// million rows, and a common one costs a short walk rather than a sort of a hundred thousand.
struct Source {
    /// A `WITH …` prefix, or empty.
    with: String,
    from: String,
    conditions: Vec<String>,
    /// Whether the rows are a search's matches read from the trigram index (SQLite's FTS table),
    /// which can then be counted without reading `contacts` at all.
    fts: Option<usize>,
}

/// The rows of the list `query` as `viewer` sees it: the search's matches (or every contact),
/// narrowed by the tag filters and by what the viewer may see.
fn rows_of(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    plan: &Plan,
    args: &mut Vec<Arg>,
) -> Source {
    let needle = search_needle(&query.q);
    let mut source = source(db, needle.as_deref(), plan, args);
    for filter in &query.tags {
        args.push(Arg::Id(filter.tag));
        source.conditions.push(format!(
            "{}EXISTS (SELECT 1 FROM contact_tags t WHERE t.contact_id = contacts.id AND t.tag_id = ${})",
            if filter.is { "" } else { "NOT " },
            args.len()
        ));
    }
    args.push(Arg::Id(viewer.user.id));
    match visible_condition(viewer, args.len()) {
        Some(condition) => source.conditions.push(condition),
        None => {
            args.pop();
        }
    }
    source
}

/// Whether `q` is searched through the trigram index (three characters or more).
fn indexed_search(q: &str) -> bool {
    search_needle(q).is_some_and(|needle| needle.chars().count() >= TRIGRAM)
}

fn source(db: &Db, needle: Option<&str>, plan: &Plan, args: &mut Vec<Arg>) -> Source {
    let plain = |condition: Option<String>| Source {
        with: String::new(),
        from: "contacts".into(),
        conditions: condition.into_iter().collect(),
        fts: None,
    };
    let Some(needle) = needle else {
        return plain(None);
    };
    let postgres = db.backend() == crate::db::Backend::Postgres;
    // `|| ''` keeps PostgreSQL from reaching for the trigram index (and sorting every match)
    // when the point is to walk an index in list order and stop at the page.
    let unindexed = if postgres {
        "(contacts.search_text || '')"
    } else {
        "contacts.search_text"
    };
    if let Plan::Terms(terms) = plan {
        // The terms' ranges are the search: a contact in them matches, unless they hold only
        // part of it (three words and more), which each contact's own text then confirms.
        return plain(terms.partial.then(|| {
            args.push(Arg::Text(like_pattern(needle)));
            format!("{unindexed} LIKE ${} ESCAPE '\\'", args.len())
        }));
    }
    if needle.chars().count() < TRIGRAM || matches!(plan, Plan::Dense(_)) {
        args.push(Arg::Text(like_pattern(needle)));
        return plain(Some(format!(
            "{unindexed} LIKE ${} ESCAPE '\\'",
            args.len()
        )));
    }
    if postgres {
        args.push(Arg::Text(like_pattern(needle)));
        if *plan == Plan::Count {
            return plain(Some(format!(
                "contacts.search_text LIKE ${} ESCAPE '\\'",
                args.len()
            )));
        }
        return Source {
            // The matches, read once through the trigram index, stand in for the table (inside
            // its own definition `contacts` is still the table): they are then sorted as they are,
            // with no second trip to the table for each. MATERIALIZED keeps the planner from
            // walking the sort index and testing every row instead.
            with: format!(
                "WITH contacts AS MATERIALIZED (SELECT * FROM contacts \
                 WHERE search_text LIKE ${} ESCAPE '\\') ",
                args.len()
            ),
            from: "contacts".into(),
            conditions: Vec::new(),
            fts: None,
        };
    }
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
        conditions: Vec::new(),
        fts: Some(args.len()),
    }
}

/// One bound value of a dynamically built query.
enum Arg {
    Text(String),
    Time(DateTime<Utc>),
    Id(Uuid),
    /// As a row's key (see [`row_condition_on`]): the key of the contact with this id, read by
    /// the statement itself, so that a walk can start from a contact the server has not read yet.
    /// Bound as the id.
    KeyOf(Uuid),
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

/// Whether a statement is worth keeping prepared on its connection for the next time. A search
/// through many terms on SQLite is one long statement for each number of terms, hundreds of
/// kilobytes once prepared: kept on every connection of the pool, they took the server from 140
/// to 280 MB under load.
fn keeps(sql: &str) -> bool {
    sql.len() <= 4_000
}

/// Binds `args` in order to a dynamically built query.
macro_rules! bind_args {
    ($query:expr, $args:expr) => {{
        let mut query = $query;
        for arg in $args {
            query = match arg {
                Arg::Text(s) => query.bind(s),
                Arg::Time(t) => query.bind(t),
                Arg::Id(id) | Arg::KeyOf(id) => query.bind(id),
            };
        }
        query
    }};
}

// After `bind_args`, which it uses.
mod terms;
pub use terms::{IndexedTerm, TermKind, Terms};

/// `(key, id) > (cursor)` (or `<` for high-to-low), with the cursor's values pushed onto `args`.
fn keyset_condition(
    sort: SortOrder,
    high_to_low: bool,
    cursor: (Arg, Uuid),
    args: &mut Vec<Arg>,
) -> String {
    row_condition(sort, if high_to_low { "<" } else { ">" }, cursor, args)
}

/// `(key, id) <op> (row)`, with the row's values pushed onto `args`.
fn row_condition(sort: SortOrder, op: &str, row: (Arg, Uuid), args: &mut Vec<Arg>) -> String {
    let (key_column, _) = sort.key();
    row_condition_on(
        (&format!("contacts.{key_column}"), "contacts.id"),
        op,
        row,
        args,
    )
}

/// `(key, id) <op> (row)` on the given columns, with the row's values pushed onto `args`.
fn row_condition_on(
    (key_column, id_column): (&str, &str),
    op: &str,
    row: (Arg, Uuid),
    args: &mut Vec<Arg>,
) -> String {
    let (key, id) = row;
    let key = match key {
        Arg::KeyOf(of) => {
            args.push(Arg::KeyOf(of));
            let column = key_column.rsplit('.').next().unwrap_or(key_column);
            format!(
                "(SELECT k.{column} FROM contacts k WHERE k.id = ${})",
                args.len()
            )
        }
        key => {
            args.push(key);
            format!("${}", args.len())
        }
    };
    args.push(Arg::Id(id));
    format!("({key_column}, {id_column}) {op} ({key}, ${})", args.len())
}

/// Where a walk through a list starts (its cursor, if any), whether it runs backwards, and
/// whether it is read high to low.
struct Walk {
    cursor: Option<(Arg, Uuid)>,
    backwards: bool,
    high_to_low: bool,
}

impl Walk {
    fn new(sort: SortOrder, cursor: Option<(Arg, Uuid)>, backwards: bool) -> Walk {
        let (_, descending) = sort.key();
        let backwards = backwards && cursor.is_some();
        // Walking backwards flips both the comparison and the order; the rows are reversed after.
        Walk {
            cursor,
            backwards,
            high_to_low: descending != backwards,
        }
    }

    /// The walk of a page of `query`: from its `after` or back from its `before`.
    fn of(query: &ListQuery) -> Walk {
        let (cursor, backwards) = match (&query.after, &query.before) {
            (Some(after), _) => (parse_cursor(after, query.sort), false),
            (None, Some(before)) => (parse_cursor(before, query.sort), true),
            (None, None) => (None, false),
        };
        Walk::new(query.sort, cursor, backwards)
    }
}

/// The row `window` rows on from where a page of `query` starts, in its order (an index-only
/// read): a [`Plan::Dense`] walk stops there. `None` when the list ends sooner.
async fn walk_end(db: &Db, query: &ListQuery, window: i64) -> AppResult<Option<(Arg, Uuid)>> {
    let (key_column, _) = query.sort.key();
    let Walk {
        cursor,
        high_to_low,
        ..
    } = Walk::of(query);
    let mut args = Vec::new();
    let mut conditions = Vec::new();
    if let Some(cursor) = cursor {
        conditions.push(keyset_condition(query.sort, high_to_low, cursor, &mut args));
    }
    let direction = if high_to_low { "DESC" } else { "ASC" };
    let sql = format!(
        "SELECT contacts.{key_column}, contacts.id FROM contacts{} \
         ORDER BY contacts.{key_column} {direction}, contacts.id {direction} LIMIT 1 OFFSET {}",
        where_clause(&conditions),
        window - 1
    );
    Ok(if key_column == "sort_name" {
        let row: Option<(String, Uuid)> = with_db!(db, pool => bind_args!(sqlx::query_as(&sql), &args)
            .fetch_optional(pool)
            .await)?;
        row.map(|(key, id)| (Arg::Text(key), id))
    } else {
        let row: Option<(DateTime<Utc>, Uuid)> = with_db!(db, pool => bind_args!(sqlx::query_as(&sql), &args)
            .fetch_optional(pool)
            .await)?;
        row.map(|(key, id)| (Arg::Time(key), id))
    })
}

/// How many contacts there are (kept by triggers, see the `contact_count` migration).
async fn contact_total(db: &Db) -> AppResult<i64> {
    Ok(with_db!(db, pool => sqlx::query_scalar::<_, i64>(
        "SELECT n FROM contact_count WHERE id = 1"
    )
    .fetch_one(pool)
    .await)?)
}

/// How many contacts the list holds: all of them exactly when the viewer sees the whole table
/// unfiltered, else up to [`COUNT_CAP`] (and "more than" past it); and how many there are in all
/// (read in the same statement, for [`plan`]).
async fn count(db: &Db, viewer: &Viewer, query: &ListQuery) -> AppResult<(i64, bool, i64)> {
    let mut args = Vec::new();
    let source = rows_of(db, viewer, query, &Plan::Count, &mut args);
    if source.conditions.is_empty() && source.with.is_empty() && source.from == "contacts" {
        let all = contact_total(db).await?;
        return Ok((all, false, all));
    }
    let counted = match source.fts {
        // Every match is a contact: with nothing else to check, the index alone is counted.
        Some(phrase) if source.conditions.is_empty() => format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM contacts_fts WHERE contacts_fts MATCH ${phrase} \
             LIMIT {}) AS capped",
            COUNT_CAP + 1
        ),
        _ => format!(
            "SELECT COUNT(*) FROM (SELECT 1 FROM {}{} LIMIT {}) AS capped",
            source.from,
            where_clause(&source.conditions),
            COUNT_CAP + 1
        ),
    };
    let sql = format!(
        "{}SELECT ({counted}), (SELECT n FROM contact_count WHERE id = 1)",
        source.with
    );
    let (total, all): (i64, i64) = with_db!(db, pool => bind_args!(sqlx::query_as::<_, (i64, i64)>(&sql), &args)
        .fetch_one(pool)
        .await)?;
    let capped = total > COUNT_CAP;
    Ok((if capped { COUNT_CAP } else { total }, capped, all))
}

/// How to read `page_size` rows of `query`, whose list holds `total` (at least, when `at_least`),
/// among `contacts` contacts (read when not known).
async fn plan(
    db: &Db,
    query: &ListQuery,
    (total, at_least): (i64, bool),
    contacts: Option<i64>,
    page_size: usize,
) -> AppResult<Plan> {
    if !indexed_search(&query.q) {
        // Not a search through the trigram index: the plan makes no difference.
        return Ok(Plan::Dense(WHOLE_WALK));
    }
    if let Some(terms) = terms::plan(db, query).await? {
        return Ok(Plan::Terms(terms));
    }
    let contacts = match contacts {
        Some(n) => n,
        None => contact_total(db).await?,
    };
    Ok(Plan::for_page(
        total, at_least, contacts, page_size, query.sort,
    ))
}

/// How many contacts `query`'s list holds (up to [`COUNT_CAP`], and whether there are more),
/// and how to read `page_size` rows of it.
async fn count_and_plan(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    page_size: usize,
) -> AppResult<((i64, bool), Plan)> {
    if let Some(terms) = terms::plan(db, query).await? {
        let counted = terms::count(db, viewer, query, &terms).await?;
        return Ok((counted, Plan::Terms(terms)));
    }
    let (total, at_least, contacts) = count(db, viewer, query).await?;
    let plan = plan(db, query, (total, at_least), Some(contacts), page_size).await?;
    Ok(((total, at_least), plan))
}

/// How an export of `query` reads its pages: as a page of the list would.
pub async fn export_plan(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    page_size: usize,
) -> AppResult<Plan> {
    Ok(
        match count_and_plan(db, viewer, query, page_size).await?.1 {
            // Walking on from where the last page stopped, the export reads the list once.
            Plan::Dense(_) => Plan::Dense(WHOLE_WALK),
            other => other,
        },
    )
}

/// The SQL (and its arguments) of one page of the list `query` as `viewer` sees it, selecting
/// `columns`: one more row than `page_size` (to tell whether more follow), and whether the page
/// runs backwards (its rows then come high to low and are reversed after).
// Each argument is one independent choice of the read (who, which list, from where, how, where it
// ends, how much, which columns, bound after which arguments); a struct would only rename them.
#[allow(clippy::too_many_arguments)]
fn page_sql(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    walk: Walk,
    plan: &Plan,
    walk_end: Option<(Arg, Uuid)>,
    page_size: usize,
    columns: &str,
    mut args: Vec<Arg>,
) -> (String, Vec<Arg>, bool) {
    let (key_column, _) = query.sort.key();
    let source = rows_of(db, viewer, query, plan, &mut args);
    let mut conditions = source.conditions;
    let Walk {
        cursor,
        backwards,
        high_to_low,
    } = walk;
    let direction = if high_to_low { "DESC" } else { "ASC" };
    let order = format!(
        "ORDER BY contacts.{key_column} {direction}, contacts.id {direction} LIMIT {}",
        page_size + 1
    );
    if let Plan::Terms(terms) = plan {
        let page = terms::page(
            db,
            terms,
            &conditions,
            (cursor, high_to_low),
            page_size + 1,
            &mut args,
        );
        let sql = format!("SELECT {columns} FROM contacts WHERE contacts.id IN ({page}) {order}");
        return (sql, args, backwards);
    }
    if let Some(cursor) = cursor {
        conditions.push(keyset_condition(query.sort, high_to_low, cursor, &mut args));
    }
    if let Some(end) = walk_end {
        let op = if high_to_low { ">=" } else { "<=" };
        conditions.push(row_condition(query.sort, op, end, &mut args));
    }
    let sql = if matches!(plan, Plan::Dense(_)) && indexed_search(&query.q) {
        // The walk picks the page's ids from the index alone (PostgreSQL reads a row only for
        // what it returns, never to test one), then the page's rows are read.
        format!(
            "SELECT {columns} FROM contacts WHERE contacts.id IN \
             (SELECT contacts.id FROM contacts{} {order}) {order}",
            where_clause(&conditions),
        )
    } else {
        format!(
            "{}SELECT {columns} FROM {}{} {order}",
            source.with,
            source.from,
            where_clause(&conditions),
        )
    };
    (sql, args, backwards)
}

/// The rows of one page in list order, and whether more rows lie beyond it in the direction walked.
async fn page_rows(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    plan: &Plan,
    page_size: usize,
) -> AppResult<(Vec<SummaryRow>, bool, bool)> {
    let end = match *plan {
        Plan::Dense(window) if window != WHOLE_WALK && indexed_search(&query.q) => {
            walk_end(db, query, window).await?
        }
        _ => None,
    };
    let walked = end.is_some();
    let (sql, args, backwards) = page_sql(
        db,
        viewer,
        query,
        Walk::of(query),
        plan,
        end,
        page_size,
        "contacts.id, kind, display_name, business_name, email, phone, city, sort_name, \
         created_at, updated_at",
        Vec::new(),
    );
    let mut rows: Vec<SummaryRow> = with_db!(db, pool => bind_args!(sqlx::query_as::<_, SummaryRow>(&sql).persistent(keeps(&sql)), &args)
        .fetch_all(pool)
        .await)?;
    if walked && rows.len() <= page_size {
        // The walk ended before the page was full: the rest of the matches lie further on.
        return Box::pin(page_rows(db, viewer, query, &Plan::Sparse, page_size)).await;
    }
    let more_beyond = rows.len() > page_size;
    rows.truncate(page_size);
    if backwards {
        rows.reverse();
    }
    Ok((rows, more_beyond, backwards))
}

/// A page of the list `query` (forwards from its `after`) as whole contacts with their custom
/// values, for an export; and the cursor of the page after it, if there is one.
pub async fn export_page(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    plan: &Plan,
    page_size: usize,
) -> AppResult<(Vec<Contact>, Option<String>)> {
    let query = ListQuery {
        before: None,
        ..query.clone()
    };
    let (sql, args, _) = page_sql(
        db,
        viewer,
        &query,
        Walk::of(&query),
        plan,
        None,
        page_size,
        "contacts.*",
        Vec::new(),
    );
    let mut contacts: Vec<Contact> = with_db!(db, pool => bind_args!(sqlx::query_as::<_, Contact>(&sql).persistent(keeps(&sql)), &args)
        .fetch_all(pool)
        .await)?;
    let more = contacts.len() > page_size;
    contacts.truncate(page_size);
    // The page's custom values in one query rather than one a contact.
    if !contacts.is_empty() {
        let placeholders: Vec<String> = (1..=contacts.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT contact_id, field_id, value FROM field_values WHERE contact_id IN ({})",
            placeholders.join(", ")
        );
        let values: Vec<(Uuid, Uuid, String)> = with_db!(db, pool => {
            let mut q = sqlx::query_as(&sql);
            for c in &contacts {
                q = q.bind(c.id);
            }
            q.fetch_all(pool).await
        })?;
        for (contact, field, value) in values {
            if let Some(c) = contacts.iter_mut().find(|c| c.id == contact) {
                c.custom.insert(field, value);
            }
        }
    }
    let next = more
        .then(|| contacts.last().map(|c| cursor_of(c, query.sort)))
        .flatten();
    Ok((contacts, next))
}

/// One page of the list. Keyset pagination: the page after (or before) a cursor is found through
/// the `(key, id)` index, never by skipping rows, so page 5,000 costs what page 1 costs.
#[tracing::instrument(skip(db, viewer), err)]
pub async fn list(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    page_size: usize,
) -> AppResult<ContactListPage> {
    let ((total, capped), plan) = count_and_plan(db, viewer, query, page_size).await?;
    let (rows, more_beyond, backwards) = page_rows(db, viewer, query, &plan, page_size).await?;
    let filter_ids: Vec<Uuid> = query.tags.iter().map(|f| f.tag).collect();
    let filter_tags = crate::tags::store::by_ids(db, &filter_ids)
        .await?
        .into_iter()
        .map(|t| (t.id, t.name))
        .collect();
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
    Ok(ContactListPage {
        items: rows.into_iter().map(SummaryRow::into_summary).collect(),
        filter_tags,
        total,
        total_is_lower_bound: capped,
        next,
        previous,
    })
}

/// The cursor pointing at `contact` in `sort` order (what [`SummaryRow::cursor`] gives for its row).
fn cursor_of(contact: &Contact, sort: SortOrder) -> String {
    let key = match sort.key().0 {
        "sort_name" => fold(&contact.display_name),
        "created_at" => contact.created_at.to_rfc3339(),
        _ => contact.updated_at.to_rfc3339(),
    };
    format!("{key}~{}", contact.id)
}

/// Everything the contact page shows, if `viewer` may see the contact: the contact with its custom
/// values, tags and followers, and its neighbours and place in the list it was opened from. Read
/// in one statement when the list is not a search through the index and the URL gave the place
/// (what the list and Previous / Next give); a pasted link also counts what it did not give.
#[tracing::instrument(skip(db, viewer, place), err)]
pub async fn open(
    db: &Db,
    viewer: &Viewer,
    id: Uuid,
    mut place: ListPlace,
) -> AppResult<(Contact, Vec<ContactTag>, Vec<Uuid>, ContactNav)> {
    let at_once = !indexed_search(&place.list.q);
    let card = card(db, id, Some(viewer), at_once.then_some(&place.list))
        .await?
        .ok_or(AppError::NotFound)?;
    let (previous, next) = match card.neighbours {
        Some(neighbours) => {
            if place.of.is_none() {
                let (count, at_least, _) = count(db, viewer, &place.list).await?;
                place.of = Some(ListTotal {
                    count: count as u64,
                    at_least,
                });
            }
            neighbours
        }
        None => neighbours(db, viewer, &card.contact, &mut place).await?,
    };
    if place.pos.is_none() {
        place.pos = position(db, viewer, &card.contact, &place.list).await?;
    }
    let nav = ContactNav {
        previous,
        next,
        place,
    };
    Ok((card.contact, card.tags, card.followers, nav))
}

/// A contact's neighbours in a searched list, each read as the search's plan says; and the list's
/// length, when `place` did not give it.
async fn neighbours(
    db: &Db,
    viewer: &Viewer,
    contact: &Contact,
    place: &mut ListPlace,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    let plan = match place.of {
        Some(of) => plan(db, &place.list, (of.count as i64, of.at_least), None, 1).await?,
        None => {
            let ((count, at_least), plan) = count_and_plan(db, viewer, &place.list, 1).await?;
            place.of = Some(ListTotal {
                count: count as u64,
                at_least,
            });
            plan
        }
    };
    let cursor = cursor_of(contact, place.list.sort);
    neighbours_apart(db, viewer, &place.list, &plan, &cursor).await
}

/// `list` walked from `cursor`: forwards (`after`) or backwards.
fn walked_from(list: &ListQuery, cursor: &str, after: bool) -> ListQuery {
    ListQuery {
        after: after.then(|| cursor.to_string()),
        before: (!after).then(|| cursor.to_string()),
        ..list.clone()
    }
}

/// Two columns, `previous_id` and `next_id`: the rows just before and just after the contact
/// `id` in `list`, two keyset lookups on the list's index from the contact's own key (read by the
/// statement), for a statement whose arguments so far are `args`.
fn neighbours_sql(
    db: &Db,
    viewer: &Viewer,
    list: &ListQuery,
    id: Uuid,
    args: Vec<Arg>,
) -> (String, Vec<Arg>) {
    let side = |after: bool, args| {
        let walk = Walk::new(list.sort, Some((Arg::KeyOf(id), id)), !after);
        let whole = &Plan::Dense(WHOLE_WALK);
        // A page of none: one row (the page size plus the one that says whether more follow).
        let (sql, args, _) = page_sql(db, viewer, list, walk, whole, None, 0, "contacts.id", args);
        (sql, args)
    };
    let (before, args) = side(false, args);
    let (after, args) = side(true, args);
    let sql = format!(
        "(SELECT id FROM ({before}) AS p) AS previous_id, (SELECT id FROM ({after}) AS n) AS next_id"
    );
    (sql, args)
}

/// The rows just before and just after `cursor` in a searched `list`, each read as `plan` says.
async fn neighbours_apart(
    db: &Db,
    viewer: &Viewer,
    list: &ListQuery,
    plan: &Plan,
    cursor: &str,
) -> AppResult<(Option<Uuid>, Option<Uuid>)> {
    let neighbour = |after: bool| {
        let query = walked_from(list, cursor, after);
        async move {
            let (rows, _, _) = page_rows(db, viewer, &query, plan, 1).await?;
            AppResult::Ok(rows.first().map(|r| r.id))
        }
    };
    // Two lookups on two of the pool's connections at once: the page waits for one round trip
    // to the database, not two.
    tokio::try_join!(neighbour(false), neighbour(true))
}

/// 1-based position of `contact` in the list, if it is within the first [`COUNT_CAP`] rows.
async fn position(
    db: &Db,
    viewer: &Viewer,
    contact: &Contact,
    list: &ListQuery,
) -> AppResult<Option<u64>> {
    let mut args = Vec::new();
    let source = rows_of(db, viewer, list, &Plan::Count, &mut args);
    let mut conditions = source.conditions;
    let Some(cursor) = parse_cursor(&cursor_of(contact, list.sort), list.sort) else {
        return Ok(None);
    };
    // Rows before the contact: the opposite comparison to "after".
    let (_, descending) = list.sort.key();
    conditions.push(keyset_condition(list.sort, !descending, cursor, &mut args));
    let sql = format!(
        "{}SELECT COUNT(*) FROM (SELECT 1 FROM {}{} LIMIT {}) AS capped",
        source.with,
        source.from,
        where_clause(&conditions),
        COUNT_CAP + 1
    );
    let before: i64 = with_db!(db, pool => bind_args!(sqlx::query_scalar::<_, i64>(&sql), &args)
        .fetch_one(pool)
        .await)?;
    Ok((before < COUNT_CAP).then_some(before as u64 + 1))
}

fn where_clause(conditions: &[String]) -> String {
    if conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", conditions.join(" AND "))
    }
}

/// A contact with its custom values, whoever asks (for code that already checked access).
pub async fn get(db: &Db, id: Uuid) -> AppResult<Option<Contact>> {
    Ok(card(db, id, None, None).await?.map(|card| card.contact))
}

/// The contact, if `viewer` may see it; [`AppError::NotFound`] otherwise — the same answer as for
/// a contact that does not exist, so a private contact's existence is not given away.
pub async fn get_visible(db: &Db, viewer: &Viewer, id: Uuid) -> AppResult<Contact> {
    let card = card(db, id, Some(viewer), None).await?;
    Ok(card.ok_or(AppError::NotFound)?.contact)
}

/// A contact as the contact page shows it: with its custom values, its tags and its followers.
struct Card {
    contact: Contact,
    tags: Vec<ContactTag>,
    followers: Vec<Uuid>,
    /// The rows before and after it in the list it was asked with, if it was.
    neighbours: Option<(Option<Uuid>, Option<Uuid>)>,
}

/// One row of [`card`]'s query past the contact's own columns: a tag, a follower or a custom
/// value, by `kind` (none at all for a contact without any of them).
#[derive(sqlx::FromRow)]
struct ExtraRow {
    #[sqlx(rename = "extra_kind")]
    kind: Option<String>,
    #[sqlx(rename = "extra_id")]
    id: Option<Uuid>,
    #[sqlx(rename = "extra_text")]
    text: Option<String>,
    #[sqlx(rename = "extra_color")]
    color: Option<String>,
    #[sqlx(rename = "extra_source")]
    source: Option<String>,
    #[sqlx(rename = "extra_automatic")]
    automatic: Option<bool>,
}

/// The contact's row, its custom values, its tags (by name) and its followers (in the order they
/// started), and its neighbours in `list` if given (and seen as `viewer` sees it), in one query —
/// `None` as well when `viewer` may not see it. One statement rather than one for each: each is a
/// handful of rows, and on a busy server a query costs more than its rows (on SQLite every one is
/// a hand-off to the connection's thread and back).
async fn card(
    db: &Db,
    id: Uuid,
    viewer: Option<&Viewer>,
    list: Option<&ListQuery>,
) -> AppResult<Option<Card>> {
    let mut args = vec![Arg::Id(id)];
    let condition = viewer.and_then(|v| visible_condition(v, 2));
    if let (Some(_), Some(v)) = (&condition, viewer) {
        args.push(Arg::Id(v.user.id));
    }
    let (neighbours, args) = match (viewer, list) {
        (Some(viewer), Some(list)) => neighbours_sql(db, viewer, list, id, args),
        _ => ("NULL AS previous_id, NULL AS next_id".to_string(), args),
    };
    // The contact's columns repeat on each of its extras' rows (a left join, so that a contact
    // without any still gives its one row); they are read from the first row only. Each branch
    // of the union names the contact itself, so each is one lookup on its table's index. The tags
    // come first: PostgreSQL types a UNION's columns pair by pair from the left, so the branch
    // that gives most columns a type leads. Sorted by the database, as every other list of tags
    // is (by its collation): tags by name, followers in the order they started.
    let sql = format!(
        "SELECT contacts.*, {neighbours}, e.kind AS extra_kind, e.id AS extra_id, e.text AS extra_text, \
                e.color AS extra_color, e.source AS extra_source, e.automatic AS extra_automatic \
           FROM contacts LEFT JOIN ( \
             SELECT 'tag' AS kind, tags.id AS id, tags.name AS text, tags.color AS color, \
                    ct.source AS source, ct.automatic AS automatic, NULL AS added_at, \
                    tags.name_key AS name_key \
               FROM contact_tags ct JOIN tags ON tags.id = ct.tag_id WHERE ct.contact_id = $1 \
             UNION ALL \
             SELECT 'follower', user_id, NULL, NULL, NULL, NULL, added_at, NULL \
               FROM contact_followers WHERE contact_id = $1 \
             UNION ALL \
             SELECT 'value', field_id, value, NULL, NULL, NULL, NULL, NULL \
               FROM field_values WHERE contact_id = $1 \
           ) AS e ON TRUE \
          WHERE contacts.id = $1{} \
          ORDER BY e.kind, e.name_key, e.added_at, e.id",
        condition
            .as_deref()
            .map(|c| format!(" AND {c}"))
            .unwrap_or_default()
    );
    let rows = crate::with_quick!(db, conn => {
        bind_args!(sqlx::query(&sql), &args).fetch_all(conn).await.and_then(|rows| {
            rows.iter()
                .enumerate()
                .map(|(i, row)| {
                    let first = (i == 0)
                        .then(|| {
                            let contact = Contact::from_row(row)?;
                            let previous: Option<Uuid> = row.try_get("previous_id")?;
                            let next: Option<Uuid> = row.try_get("next_id")?;
                            Ok::<_, sqlx::Error>((contact, previous, next))
                        })
                        .transpose()?;
                    Ok((first, ExtraRow::from_row(row)?))
                })
                .collect::<Result<Vec<_>, sqlx::Error>>()
        })
    })?;
    let mut rows = rows.into_iter();
    let Some((Some((mut contact, previous, next)), first)) = rows.next() else {
        return Ok(None);
    };
    let mut tags = Vec::new();
    let mut followers = Vec::new();
    for row in std::iter::once(first).chain(rows.map(|(_, extra)| extra)) {
        let (Some(kind), Some(id)) = (row.kind, row.id) else {
            continue;
        };
        match kind.as_str() {
            "tag" => {
                let color = crate::tags::TagColor::try_from(row.color.unwrap_or_default())
                    .map_err(|e| AppError::from(anyhow::anyhow!(e)))?;
                tags.push(ContactTag {
                    tag: crate::tags::Tag {
                        id,
                        name: row.text.unwrap_or_default(),
                        color,
                    },
                    automatic: row.automatic.unwrap_or(false),
                    source: row.source,
                });
            }
            "follower" => followers.push(id),
            _ => {
                contact.custom.insert(id, row.text.unwrap_or_default());
            }
        }
    }
    Ok(Some(Card {
        contact,
        tags,
        followers,
        neighbours: viewer.and(list).map(|_| (previous, next)),
    }))
}

/// The users following a contact, in the order they started.
pub async fn followers(db: &Db, id: Uuid) -> AppResult<Vec<Uuid>> {
    let rows: Vec<(Uuid,)> = with_db!(db, pool => sqlx::query_as(
        "SELECT user_id FROM contact_followers WHERE contact_id = $1 ORDER BY added_at, user_id",
    )
    .bind(id)
    .fetch_all(pool)
    .await)?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

const INSERT_COLUMNS: &str = "id, kind, first_name, last_name, email, phone, date_of_birth, \
    contact_source, contact_type_id, business_name, street_address, city, country, state, \
    postal_code, website, time_zone, role, gender, lead_status, utm_source, utm_medium, \
    utm_campaign, owner_id, sort_name, search_text, display_name, created_at, updated_at";
const INSERT_COLUMN_COUNT: usize = 29;
/// Columns an edit on the card never writes: the owner has its own path (and its own history).
const NOT_EDITED: [&str; 1] = ["owner_id"];

/// Binds a record's columns in [`INSERT_COLUMNS`] order (the derived ones computed here).
macro_rules! bind_record {
    ($query:expr, $r:expr) => {{
        let r = $r;
        let display_name = r.display_name();
        let search_text = r.search_text(&display_name);
        $query
            .bind(r.id)
            .bind(r.kind.as_str())
            .bind(r.first_name.clone())
            .bind(r.last_name.clone())
            .bind(r.email.clone())
            .bind(r.phone.clone())
            .bind(r.date_of_birth)
            .bind(r.contact_source.clone())
            .bind(r.contact_type_id)
            .bind(r.business_name.clone())
            .bind(r.street_address.clone())
            .bind(r.city.clone())
            .bind(r.country.clone())
            .bind(r.state.clone())
            .bind(r.postal_code.clone())
            .bind(r.website.clone())
            .bind(r.time_zone.clone())
            .bind(r.role.clone())
            .bind(r.gender.clone())
            .bind(r.lead_status.clone())
            .bind(r.utm_source.clone())
            .bind(r.utm_medium.clone())
            .bind(r.utm_campaign.clone())
            .bind(r.owner_id)
            .bind(fold(&display_name))
            .bind(search_text)
            .bind(display_name)
            .bind(r.created_at)
            .bind(r.updated_at)
    }};
}

/// Creates a contact owned by its creator, with "Contact created" as its first history entry.
#[tracing::instrument(skip(db, user), err)]
pub async fn create(db: &Db, user: &CurrentUser, new: &NewContact) -> AppResult<Uuid> {
    let mut record = ContactRecord::new(new, now());
    record.owner_id = Some(user.id);
    insert_with_history(db, &record, &Actor::user(user)).await
}

/// A contact for a message from a number no contact has: named as the channel names the sender,
/// else by the number; found again by it, shared with the team, created by Rubrica.
pub async fn create_for_reply(
    db: &Db,
    channel: crate::conversations::Channel,
    phone: &str,
    name: Option<&str>,
) -> AppResult<Uuid> {
    let name = name
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .map(|n| n.chars().take(100).collect::<String>())
        .unwrap_or_else(|| super::standard::format_phone(phone));
    let mut record = ContactRecord::new(
        &NewContact::Person {
            first_name: Some(name),
            last_name: None,
        },
        now(),
    );
    record.phone = Some(phone.to_string());
    record.contact_source = Some(channel.label(crate::i18n::Locale::It).to_string());
    insert_with_history(db, &record, &Actor::system()).await
}

async fn insert_with_history(db: &Db, record: &ContactRecord, actor: &Actor) -> AppResult<Uuid> {
    let sql = insert_sql(1);
    let created = [Change::new(
        what::CREATED,
        None,
        Some(record.display_name()),
    )];
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        bind_record!(sqlx::query(&sql), record).execute(&mut *tx).await?;
        record!(tx, record.id, actor, record.created_at, &created);
        tx.commit().await
    }
    .await)?;
    Ok(record.id)
}

/// What an edit changed, field by field, as the history records it: stored values, a contact
/// type by its name (see `fields::ContactType::audit_value`), a custom field with its name.
pub fn edit_changes(layout: &Layout, before: &Contact, after: &Contact) -> Vec<Change> {
    let type_name = |id: Option<String>| {
        id.map(|id| {
            Uuid::parse_str(&id)
                .ok()
                .and_then(|id| layout.contact_type(id))
                .map_or(id, |t| t.audit_value())
        })
    };
    let mut changes = Vec::new();
    for field in Field::ALL {
        let (old, new) = (field.stored(before), field.stored(after));
        if old == new {
            continue;
        }
        changes.push(match field {
            Field::ContactType => Change::new(field.key(), type_name(old), type_name(new)),
            _ => Change::new(field.key(), old, new),
        });
    }
    for field in layout.fields() {
        let FieldRef::Custom(id) = field.field.field_ref() else {
            continue;
        };
        let (old, new) = (before.custom.get(&id), after.custom.get(&id));
        if old != new {
            changes.push(
                Change::new(FieldRef::Custom(id).key(), old.cloned(), new.cloned())
                    .labelled(field.field.label(crate::i18n::Locale::default())),
            );
        }
    }
    changes
}

/// Writes an edited contact if nobody saved it since the version it was edited from — its
/// columns, its custom values and one history entry per changed field, in one transaction — and
/// returns it as saved (next version, new `updated_at`).
#[tracing::instrument(skip_all, fields(id = %edited.id), err)]
pub async fn update(
    db: &Db,
    user: &CurrentUser,
    layout: &Layout,
    current: &Contact,
    edited: &Contact,
) -> AppResult<Contact> {
    let changes = edit_changes(layout, current, edited);
    let mut record = ContactRecord::from(edited);
    record.updated_at = now();
    let assignments = INSERT_COLUMNS
        .split(", ")
        .enumerate()
        .skip(1)
        .filter(|(_, column)| !NOT_EDITED.contains(column))
        .map(|(i, column)| format!("{column} = ${}", i + 1))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "UPDATE contacts SET {assignments}, version = version + 1 \
         WHERE id = $1 AND version = ${}",
        INSERT_COLUMN_COUNT + 1
    );
    let custom: Vec<(Uuid, Option<&String>)> = current
        .custom
        .keys()
        .chain(edited.custom.keys())
        .filter(|id| current.custom.get(id) != edited.custom.get(id))
        .map(|id| (*id, edited.custom.get(id)))
        .collect();
    let actor = Actor::user(user);
    let updated = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        let updated = bind_record!(sqlx::query(&sql), &record)
            .bind(edited.version)
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Ok(0);
        }
        for (field_id, value) in &custom {
            match value {
                Some(value) => sqlx::query(
                    "INSERT INTO field_values (contact_id, field_id, value) VALUES ($1, $2, $3) \
                     ON CONFLICT (contact_id, field_id) DO UPDATE SET value = excluded.value",
                )
                .bind(edited.id)
                .bind(field_id)
                .bind(*value)
                .execute(&mut *tx)
                .await?,
                None => sqlx::query("DELETE FROM field_values WHERE contact_id = $1 AND field_id = $2")
                    .bind(edited.id)
                    .bind(field_id)
                    .execute(&mut *tx)
                    .await?,
            };
        }
        record!(tx, edited.id, &actor, record.updated_at, &changes);
        tx.commit().await?;
        Ok::<u64, sqlx::Error>(updated)
    }
    .await)?;
    if updated == 0 {
        return Err(match get(db, edited.id).await? {
            Some(_) => AppError::Conflict,
            None => AppError::NotFound,
        });
    }
    get(db, edited.id).await?.ok_or(AppError::NotFound)
}

/// The name of an active user, or [`Problem::UserUnknown`] for anyone else.
async fn active_user_name(db: &Db, id: Uuid) -> AppResult<String> {
    let name: Option<(String,)> = with_db!(db, pool => sqlx::query_as(
        "SELECT name FROM users WHERE id = $1 AND disabled_at IS NULL AND password_hash <> ''",
    )
    .bind(id)
    .fetch_optional(pool)
    .await)?;
    name.map(|(n,)| n)
        .ok_or_else(|| AppError::invalid("user", crate::error::Problem::UserUnknown))
}

/// Any user's name, for the history (a former owner may have been disabled since).
async fn user_name(db: &Db, id: Option<Uuid>) -> AppResult<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    let name: Option<(String,)> = with_db!(db, pool => sqlx::query_as("SELECT name FROM users WHERE id = $1")
        .bind(id)
        .fetch_optional(pool)
        .await)?;
    Ok(name.map(|(n,)| n))
}

/// Runs `sql` (binding the contact id as `$1`, then each `bind`) and records `change` made at
/// `at`, in one transaction. Returns whether the statement changed a row (no row, no entry).
macro_rules! change_with_history {
    ($db:expr, $contact:expr, $actor:expr, $at:expr, $change:expr, $sql:expr $(, $bind:expr)*) => {{
        let at = $at;
        let change: Change = $change;
        with_db!($db, pool => async {
            let mut tx = pool.begin().await?;
            let changed = sqlx::query($sql)
                .bind($contact)
                $(.bind($bind))*
                .execute(&mut *tx)
                .await?
                .rows_affected()
                > 0;
            if changed {
                record!(tx, $contact, $actor, at, std::slice::from_ref(&change));
            }
            tx.commit().await?;
            Ok::<bool, sqlx::Error>(changed)
        }
        .await)
    }};
}

/// Makes `owner` (an active user, not a follower) the contact's owner, or leaves it without one.
pub async fn set_owner(
    db: &Db,
    user: &CurrentUser,
    contact: &Contact,
    owner: Option<Uuid>,
) -> AppResult<()> {
    if contact.owner_id == owner {
        return Ok(());
    }
    let new_name = match owner {
        Some(id) => Some(active_user_name(db, id).await?),
        None => None,
    };
    let old_name = user_name(db, contact.owner_id).await?;
    let changes = [Change::new(what::OWNER, old_name, new_name)];
    let at = now();
    let done = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        lock_contact(&mut tx, contact.id, at).await?;
        if let Some(owner) = owner {
            let follows: Option<(Uuid,)> = sqlx::query_as(
                "SELECT user_id FROM contact_followers WHERE contact_id = $1 AND user_id = $2",
            )
            .bind(contact.id)
            .bind(owner)
            .fetch_optional(&mut *tx)
            .await?;
            if follows.is_some() {
                return Ok(false);
            }
        }
        sqlx::query("UPDATE contacts SET owner_id = $2 WHERE id = $1")
            .bind(contact.id)
            .bind(owner)
            .execute(&mut *tx)
            .await?;
        record!(tx, contact.id, &Actor::user(user), at, &changes);
        tx.commit().await?;
        Ok::<bool, sqlx::Error>(true)
    }
    .await)?;
    if done {
        Ok(())
    } else {
        Err(AppError::invalid(
            "owner",
            crate::error::Problem::FollowerIsOwner,
        ))
    }
}

/// Takes the contact's row for the rest of the transaction (and marks it updated): its owner and
/// followers are checked after this, so two people changing them at once can't together make a
/// follower the owner — the second waits, then sees what the first did.
async fn lock_contact<'c, DB>(
    tx: &mut sqlx::Transaction<'c, DB>,
    id: Uuid,
    at: DateTime<Utc>,
) -> Result<(), sqlx::Error>
where
    DB: sqlx::Database,
    for<'e> &'e mut DB::Connection: sqlx::Executor<'e, Database = DB>,
    for<'q> <DB as sqlx::Database>::Arguments<'q>: sqlx::IntoArguments<'q, DB>,
    Uuid: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DateTime<Utc>: for<'q> sqlx::Encode<'q, DB> + sqlx::Type<DB>,
{
    sqlx::query("UPDATE contacts SET updated_at = $2 WHERE id = $1")
        .bind(id)
        .bind(at)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// Adds an active user (not the owner) to the contact's followers.
pub async fn add_follower(
    db: &Db,
    user: &CurrentUser,
    contact: &Contact,
    follower: Uuid,
) -> AppResult<()> {
    let refused = || AppError::invalid("follower", crate::error::Problem::FollowerIsOwner);
    if contact.owner_id == Some(follower) {
        return Err(refused());
    }
    let name = active_user_name(db, follower)
        .await
        .map_err(|_| AppError::invalid("follower", crate::error::Problem::UserUnknown))?;
    let changes = [Change::new(what::FOLLOWER, None, Some(name))];
    let at = now();
    let done = with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        lock_contact(&mut tx, contact.id, at).await?;
        let (owner,): (Option<Uuid>,) =
            sqlx::query_as("SELECT owner_id FROM contacts WHERE id = $1")
                .bind(contact.id)
                .fetch_one(&mut *tx)
                .await?;
        if owner == Some(follower) {
            return Ok(false);
        }
        let added = sqlx::query(
            "INSERT INTO contact_followers (contact_id, user_id, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (contact_id, user_id) DO NOTHING",
        )
        .bind(contact.id)
        .bind(follower)
        .bind(at)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if added > 0 {
            record!(tx, contact.id, &Actor::user(user), at, &changes);
        }
        tx.commit().await?;
        Ok::<bool, sqlx::Error>(true)
    }
    .await)?;
    if done {
        Ok(())
    } else {
        Err(refused())
    }
}

pub async fn remove_follower(
    db: &Db,
    user: &CurrentUser,
    contact: &Contact,
    follower: Uuid,
) -> AppResult<()> {
    let change = Change::new(what::FOLLOWER, user_name(db, Some(follower)).await?, None);
    change_with_history!(
        db,
        contact.id,
        &Actor::user(user),
        now(),
        change,
        "DELETE FROM contact_followers WHERE contact_id = $1 AND user_id = $2",
        follower
    )?;
    Ok(())
}

pub async fn set_visibility(
    db: &Db,
    user: &CurrentUser,
    contact: &Contact,
    visibility: super::Visibility,
) -> AppResult<()> {
    if contact.visibility == visibility {
        return Ok(());
    }
    let change = Change::new(
        what::VISIBILITY,
        Some(contact.visibility.as_str().to_string()),
        Some(visibility.as_str().to_string()),
    );
    change_with_history!(
        db,
        contact.id,
        &Actor::user(user),
        now(),
        change,
        "UPDATE contacts SET visibility = $2, updated_at = $3 WHERE id = $1",
        visibility.as_str(),
        now()
    )?;
    Ok(())
}

/// Turns Do Not Disturb on or off for one channel (or for all at once).
pub async fn set_dnd(
    db: &Db,
    user: &CurrentUser,
    contact: &Contact,
    channel: super::DndChannel,
    on: bool,
) -> AppResult<()> {
    if contact.dnd.get(channel) == on {
        return Ok(());
    }
    let word = |on: bool| Some(if on { "on" } else { "off" }.to_string());
    let change = Change::new(
        format!("{}{}", what::DND, channel.key()),
        word(!on),
        word(on),
    );
    // The column name comes from the closed list of channels, never from the request.
    let sql = format!(
        "UPDATE contacts SET dnd_{} = $2, updated_at = $3 WHERE id = $1",
        channel.key()
    );
    change_with_history!(
        db,
        contact.id,
        &Actor::user(user),
        now(),
        change,
        &sql,
        on,
        now()
    )?;
    Ok(())
}

/// The contact asked, from an email's unsubscribe link, to get no more email: marked
/// unsubscribed with email Do Not Disturb on, both in its history as done by Rubrica on the
/// contact's behalf, in one transaction.
pub async fn unsubscribe_email(db: &Db, contact: &Contact) -> AppResult<()> {
    let mut changes = Vec::new();
    if contact.email_subscription != "unsubscribed" {
        changes.push(Change::new(
            what::EMAIL_SUBSCRIPTION,
            Some(contact.email_subscription.clone()),
            Some("unsubscribed".to_string()),
        ));
    }
    if !contact.dnd.email {
        changes.push(Change::new(
            format!("{}{}", what::DND, super::DndChannel::Email.key()),
            Some("off".to_string()),
            Some("on".to_string()),
        ));
    }
    if changes.is_empty() {
        return Ok(());
    }
    let at = now();
    with_db!(db, pool => async {
        let mut tx = pool.begin().await?;
        sqlx::query(
            "UPDATE contacts SET email_subscription = 'unsubscribed', dnd_email = TRUE, \
             updated_at = $2 WHERE id = $1",
        )
        .bind(contact.id)
        .bind(at)
        .execute(&mut *tx)
        .await?;
        record!(tx, contact.id, &Actor::system(), at, &changes);
        tx.commit().await
    }
    .await)?;
    Ok(())
}

impl From<&Contact> for ContactRecord {
    fn from(c: &Contact) -> ContactRecord {
        ContactRecord {
            id: c.id,
            kind: c.kind,
            first_name: c.first_name.clone(),
            last_name: c.last_name.clone(),
            email: c.email.clone(),
            phone: c.phone.clone(),
            date_of_birth: c.date_of_birth,
            contact_source: c.contact_source.clone(),
            contact_type_id: c.contact_type_id,
            business_name: c.business_name.clone(),
            street_address: c.street_address.clone(),
            city: c.city.clone(),
            country: c.country.clone(),
            state: c.state.clone(),
            postal_code: c.postal_code.clone(),
            website: c.website.clone(),
            time_zone: c.time_zone.clone(),
            role: c.role.clone(),
            gender: c.gender.clone(),
            lead_status: c.lead_status.clone(),
            utm_source: c.utm_source.clone(),
            utm_medium: c.utm_medium.clone(),
            utm_campaign: c.utm_campaign.clone(),
            owner_id: c.owner_id,
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

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
                insert = bind_record!(insert, r);
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
    use crate::{contacts::standard::Field, db_test};

    /// An admin: sees every contact, as the tests of the list expect.
    fn admin() -> Viewer {
        Viewer {
            user: CurrentUser {
                id: Uuid::nil(),
                name: "Test".into(),
                email: "test@example.it".into(),
                is_admin: true,
                hide_empty_fields: None,
                locale: None,
            },
        }
    }

    /// A user stored in the database (contacts they create are theirs).
    async fn someone(db: &Db) -> CurrentUser {
        let email = crate::auth::Email::parse("anna@example.it").unwrap();
        let password = crate::auth::NewPassword::parse("a long enough password").unwrap();
        let id = crate::auth::store::add_user(db, "Anna", &email, &password, true)
            .await
            .unwrap();
        CurrentUser { id, ..admin().user }
    }

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
        list(db, &admin(), &query, 50)
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
                    let page = list(&db, &admin(), &query, 3).await.unwrap();
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
                                &admin(),
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

            let by_name = list(&db, &admin(), &ListQuery::default(), 10)
                .await
                .unwrap();
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
            let page = list(&db, &admin(), &broad, 50).await.unwrap();
            assert_eq!((page.total, page.total_is_lower_bound), (COUNT_CAP, true));
            assert_eq!(page.items.len(), 50);
            let everyone = list(&db, &admin(), &ListQuery::default(), 50)
                .await
                .unwrap();
            assert_eq!(
                (everyone.total, everyone.total_is_lower_bound),
                (COUNT_CAP + 1, false)
            );
            let one = ListQuery {
                q: "persona123 ".into(),
                ..ListQuery::default()
            };
            let page = list(&db, &admin(), &one, 50).await.unwrap();
            assert_eq!(
                (page.total, page.total_is_lower_bound),
                (11, false),
                "persona123, persona1230…1239"
            );
        }
    );

    #[test]
    fn a_common_term_walks_the_sort_index_and_a_rare_one_sorts_its_matches() {
        let million = 1_000_000;
        let by_name = SortOrder::NameAsc;
        let dense = |plan| matches!(plan, Plan::Dense(_));
        // "mar": more matches than are counted.
        assert!(dense(Plan::for_page(COUNT_CAP, true, million, 50, by_name)));
        // A surname shared by one contact in a hundred: a match every hundred rows.
        assert!(dense(Plan::for_page(9_000, false, million, 50, by_name)));
        // …but by date, without the searched text in the index, only when matches are closer.
        assert!(!dense(Plan::for_page(
            9_000,
            false,
            million,
            50,
            SortOrder::CreatedDesc
        )));
        assert!(dense(Plan::for_page(
            COUNT_CAP,
            true,
            million,
            50,
            SortOrder::CreatedDesc
        )));
        // A full name: a handful of matches, found and sorted at once.
        assert_eq!(Plan::for_page(3, false, million, 50, by_name), Plan::Sparse);
        assert_eq!(Plan::for_page(0, false, million, 50, by_name), Plan::Sparse);
        // Previous / Next need one row each: a walk stops sooner.
        assert!(dense(Plan::for_page(500, false, million, 1, by_name)));
        // A small workspace: walking it all is cheap either way.
        assert!(dense(Plan::for_page(3, false, 500, 50, by_name)));
    }

    db_test!(
        a_search_reads_the_same_pages_however_its_rows_are_found,
        |db| {
            let at = now();
            let names = [
                ("Mario", "Rossi"),
                ("Maria", "Bianchi"),
                ("Marco", "Rossini"),
                ("Anna", "Marini"),
                ("Luca", "Verdi"),
                ("Marta", "Rossi"),
                ("Omar", "Ferri"),
                ("Rosa", "Rossi"),
            ];
            let records: Vec<_> = names
                .iter()
                .enumerate()
                .map(|(i, (first, last))| {
                    let mut r = person(first, last, at - chrono::Duration::minutes(i as i64));
                    r.updated_at = at - chrono::Duration::minutes(((i * 5) % 8) as i64);
                    r
                })
                .collect();
            insert_many(&db, &records).await.unwrap();
            for q in ["mar", "rossi", "nobody", "mario rossi", "a rossi"] {
                for sort in SortOrder::ALL {
                    let mut walks = Vec::new();
                    // A walk of two rows gives up at once (and reads the page as Sparse).
                    let mut plans = vec![
                        Plan::Sparse,
                        Plan::Dense(WHOLE_WALK),
                        Plan::Dense(2),
                        Plan::Dense(6),
                    ];
                    if sort.key().0 == "sort_name" {
                        // In name order, a search of one word, or two, is read from the term
                        // index.
                        let query = ListQuery {
                            q: q.into(),
                            sort,
                            ..ListQuery::default()
                        };
                        let terms = terms::plan(&db, &query).await.unwrap().unwrap();
                        assert_eq!(
                            plan(&db, &query, (0, false), None, 2).await.unwrap(),
                            Plan::Terms(terms.clone())
                        );
                        plans.push(Plan::Terms(terms));
                    }
                    for plan in &plans {
                        // Forwards on pages of 2, then backwards from the last page.
                        let mut forward = Vec::new();
                        let mut query = ListQuery {
                            q: q.into(),
                            sort,
                            ..ListQuery::default()
                        };
                        loop {
                            let (rows, more, _) =
                                page_rows(&db, &admin(), &query, plan, 2).await.unwrap();
                            let Some(last) = rows.last().map(|r| r.cursor(sort)) else {
                                break;
                            };
                            forward.extend(rows.into_iter().map(|r| r.id));
                            if !more {
                                break;
                            }
                            query.after = Some(last);
                        }
                        let mut backward = Vec::new();
                        let mut before = forward.last().map(|id| {
                            let row = records.iter().find(|r| r.id == *id).unwrap();
                            let key = match sort.key().0 {
                                "sort_name" => fold(&row.display_name()),
                                "created_at" => row.created_at.to_rfc3339(),
                                _ => row.updated_at.to_rfc3339(),
                            };
                            format!("{key}~{id}")
                        });
                        backward.extend(forward.last().copied());
                        while let Some(cursor) = before.take() {
                            let query = ListQuery {
                                q: q.into(),
                                sort,
                                before: Some(cursor),
                                ..ListQuery::default()
                            };
                            let (rows, more, _) =
                                page_rows(&db, &admin(), &query, plan, 2).await.unwrap();
                            if more {
                                before = rows.first().map(|r| r.cursor(sort));
                            }
                            backward.splice(0..0, rows.into_iter().map(|r| r.id));
                        }
                        assert_eq!(backward, forward, "{q} {sort:?} {plan:?}: backwards");
                        walks.push(forward);
                    }
                    let expected = match q {
                        "mar" => 6, // Omar Ferri too
                        "rossi" => 4,
                        "mario rossi" => 1,
                        "a rossi" => 2, // Marta, Rosa
                        _ => 0,
                    };
                    assert_eq!(walks[0].len(), expected, "{q} {sort:?}");
                    assert_eq!(walks[0], walks[1], "{q} {sort:?}: sparse and dense agree");
                    assert_eq!(walks[0], walks[2], "{q} {sort:?}: a walk cut short too");
                    assert_eq!(
                        walks[0], walks[3],
                        "{q} {sort:?}: and one cut short at times"
                    );
                    if let Some(terms) = walks.get(4) {
                        assert_eq!(&walks[0], terms, "{q} {sort:?}: and the term index");
                    }
                }
            }
        }
    );

    db_test!(
        the_whole_lists_total_follows_every_addition_and_removal,
        |db| {
            let at = now();
            let total = |db: Db| async move {
                let page = list(&db, &admin(), &ListQuery::default(), 50)
                    .await
                    .unwrap();
                (page.total, page.total_is_lower_bound)
            };
            assert_eq!(total(db.clone()).await, (0, false));
            let many: Vec<_> = (0..7)
                .map(|i| person(&format!("Persona{i}"), "Rossi", at))
                .collect();
            insert_many(&db, &many).await.unwrap();
            let user = someone(&db).await;
            create(
                &db,
                &user,
                &NewContact::Person {
                    first_name: Some("Una".into()),
                    last_name: None,
                },
            )
            .await
            .unwrap();
            assert_eq!(total(db.clone()).await, (8, false));
            let gone = with_db!(&db, pool => sqlx::query(
            "DELETE FROM contacts WHERE id IN ($1, $2)"
        )
        .bind(many[0].id)
        .bind(many[1].id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
            .unwrap();
            assert_eq!(gone, 2);
            assert_eq!(total(db.clone()).await, (6, false));
        }
    );

    db_test!(
        the_card_reads_its_tags_followers_and_values_in_one_go,
        |db| {
            let anna = someone(&db).await;
            let id = create(
                &db,
                &anna,
                &NewContact::Person {
                    first_name: Some("Ada".into()),
                    last_name: None,
                },
            )
            .await
            .unwrap();
            let actor = crate::audit::store::Actor::user(&anna);
            for name in ["Zeta", "alfa", "Beta"] {
                let tag = crate::tags::store::create(&db, name, crate::tags::TagColor::Green)
                    .await
                    .unwrap();
                crate::tags::store::tag_contact(&db, &actor, id, &tag, None)
                    .await
                    .unwrap();
            }
            let contact = get(&db, id).await.unwrap().unwrap();
            for name in ["Bruno", "Carla"] {
                let email = crate::auth::Email::parse(&format!("{name}@example.it")).unwrap();
                let password = crate::auth::NewPassword::parse("a long enough password").unwrap();
                let user = crate::auth::store::add_user(&db, name, &email, &password, false)
                    .await
                    .unwrap();
                add_follower(&db, &anna, &contact, user).await.unwrap();
            }
            let folder = crate::fields::store::create_folder(&db, "Extra")
                .await
                .unwrap();
            let field = crate::fields::store::create_field(
                &db,
                "Nickname",
                crate::fields::FieldType::Text,
                &[],
                folder,
            )
            .await
            .unwrap();
            with_db!(&db, pool => sqlx::query(
            "INSERT INTO field_values (contact_id, field_id, value) VALUES ($1, $2, 'Adi')"
        )
        .bind(id)
        .bind(field)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))
            .unwrap();

            let Card {
                contact: card,
                tags,
                followers,
                ..
            } = card(&db, id, Some(&admin()), None).await.unwrap().unwrap();
            // The same as each read on its own.
            assert_eq!(tags, crate::tags::store::of_contact(&db, id).await.unwrap());
            let names: Vec<_> = tags.iter().map(|t| t.tag.name.as_str()).collect();
            assert_eq!(
                names,
                ["alfa", "Beta", "Zeta"],
                "by name, whatever the case"
            );
            assert_eq!(followers, super::followers(&db, id).await.unwrap());
            assert_eq!(followers.len(), 2);
            let stored: Vec<(Uuid, String)> = with_db!(&db, pool => sqlx::query_as(
                "SELECT field_id, value FROM field_values WHERE contact_id = $1",
            )
            .bind(id)
            .fetch_all(pool)
            .await)
            .unwrap();
            assert_eq!(card.custom, stored.into_iter().collect());
            assert_eq!(card.custom.get(&field).map(String::as_str), Some("Adi"));
        }
    );

    db_test!(the_term_index_follows_every_write, |db| {
        use crate::testing::assert_term_index_matches_contacts as index_is_right;
        let at = now();
        let mut giulia = person("Giulia", "Bianchi", at);
        giulia.email = Some("giulia.b87@libero.it".into());
        giulia.business_name = Some("Ferramenta Rossi S.r.l.".into());
        let mut nicolo = person("Nicolò", "D'Angelo", at);
        nicolo.phone = Some("+393471234567".into());
        let anna = person("Anna", "Rossi", at);
        insert_many(&db, &[giulia.clone(), nicolo.clone(), anna.clone()])
            .await
            .unwrap();
        index_is_right(&db).await;
        assert_eq!(search(&db, "rossi").await, ["Anna Rossi", "Giulia Bianchi"]);
        assert_eq!(search(&db, "angel").await, ["Nicolò D'Angelo"]);

        let user = someone(&db).await;
        let id = create(
            &db,
            &user,
            &NewContact::Company {
                business_name: "Rossetti & Figli".into(),
            },
        )
        .await
        .unwrap();
        index_is_right(&db).await;
        assert_eq!(search(&db, "ross").await.len(), 3);

        // Renamed: found by the new name, not the old one.
        let layout = crate::fields::store::layout(&db).await.unwrap();
        let opened = get(&db, anna.id).await.unwrap().unwrap();
        let renamed = crate::contacts::apply_edit(
            &opened,
            &[(FieldRef::Standard(Field::LastName), "Verdi".to_string())],
            &layout,
            at.date_naive(),
        )
        .unwrap();
        update(&db, &user, &layout, &opened, &renamed)
            .await
            .unwrap();
        index_is_right(&db).await;
        assert_eq!(search(&db, "verdi").await, ["Anna Verdi"]);
        assert_eq!(search(&db, "rossi").await, ["Giulia Bianchi"]);

        // Writes that leave the name alone leave the words alone.
        let contact = get(&db, id).await.unwrap().unwrap();
        set_visibility(&db, &user, &contact, crate::contacts::Visibility::Private)
            .await
            .unwrap();
        index_is_right(&db).await;

        with_db!(&db, pool => sqlx::query("DELETE FROM contacts WHERE id = $1")
            .bind(giulia.id)
            .execute(pool)
            .await
            .map(|r| r.rows_affected()))
        .unwrap();
        index_is_right(&db).await;
        assert!(search(&db, "bianchi").await.is_empty());
    });

    db_test!(
        the_term_index_counts_and_pages_what_the_searched_text_does,
        |db| {
            use crate::contacts::{TagFilter, Visibility};
            let at = now();
            let owner = someone(&db).await;
            let people = [
                ("Anna", "Rossi", Some("Rossetti Spa")),
                ("Marco", "Rossetti", None),
                ("Anna", "Bianchi", Some("Ferramenta Rossi")),
                ("Luca", "Verdi", None),
                ("Rosa", "Neri", None),
                ("Annalisa", "Rossi", None),
            ];
            let records: Vec<_> = people
                .iter()
                .enumerate()
                .map(|(i, (first, last, company))| {
                    let mut r = person(first, last, at - chrono::Duration::minutes(i as i64));
                    r.business_name = company.map(Into::into);
                    r.owner_id = Some(owner.id);
                    r
                })
                .collect();
            insert_many(&db, &records).await.unwrap();
            // The first two are private to their owner.
            for r in &records[..2] {
                let contact = get(&db, r.id).await.unwrap().unwrap();
                set_visibility(&db, &owner, &contact, Visibility::Private)
                    .await
                    .unwrap();
            }
            let vip = crate::tags::store::create(&db, "Vip", crate::tags::TagColor::Green)
                .await
                .unwrap();
            let actor = crate::audit::store::Actor::user(&owner);
            for r in [&records[0], &records[2], &records[5]] {
                crate::tags::store::tag_contact(&db, &actor, r.id, &vip, None)
                    .await
                    .unwrap();
            }
            let member = Viewer {
                user: CurrentUser {
                    id: crate::db::new_id(),
                    is_admin: false,
                    ..admin().user
                },
            };
            let filters = [
                vec![],
                vec![TagFilter {
                    tag: vip.id,
                    is: true,
                }],
                vec![TagFilter {
                    tag: vip.id,
                    is: false,
                }],
            ];
            let mut totals = Vec::new();
            for viewer in [admin(), member] {
                for tags in &filters {
                    for q in [
                        "ross",
                        "rossi",
                        "anna",
                        "nobody",
                        "a rossi",
                        "anna b",
                        "anna rossi rossetti",
                        "anna rossi spa",
                    ] {
                        let query = ListQuery {
                            q: q.into(),
                            tags: tags.clone(),
                            ..ListQuery::default()
                        };
                        let terms = terms::plan(&db, &query).await.unwrap().expect("a term");
                        let (total, at_least, _) = count(&db, &viewer, &query).await.unwrap();
                        assert_eq!(
                            terms::count(&db, &viewer, &query, &terms).await.unwrap(),
                            (total, at_least),
                            "{q} {tags:?} admin: {}",
                            viewer.user.is_admin
                        );
                        let ids = |plan| {
                            let (db, viewer, query) = (&db, &viewer, &query);
                            async move {
                                let (rows, _, _) =
                                    page_rows(db, viewer, query, &plan, 50).await.unwrap();
                                rows.into_iter().map(|r| r.id).collect::<Vec<_>>()
                            }
                        };
                        let sorted = ids(Plan::Sparse).await;
                        assert_eq!(ids(Plan::Terms(terms)).await, sorted, "{q} {tags:?}");
                        assert_eq!(sorted.len() as i64, total);
                        totals.push(((viewer.user.is_admin, tags.len(), q), total));
                    }
                }
            }
            let total = |everyone, q| {
                totals
                    .iter()
                    .find(|((admin, tags, term), _)| *admin == everyone && *tags == 0 && *term == q)
                    .map(|(_, total)| *total)
            };
            // "ross": Anna Rossi (in two words: rossi, rossetti), Marco Rossetti, Anna Bianchi
            // (Ferramenta Rossi), Annalisa Rossi; a member sees neither private one.
            assert_eq!(total(true, "ross"), Some(4));
            assert_eq!(total(false, "ross"), Some(2));
            // "a rossi": Anna Rossi, Anna Bianchi (Ferramenta Rossi), Annalisa Rossi.
            assert_eq!(total(true, "a rossi"), Some(3));
            // Three words: "anna rossi" finds Anna Rossi, whose text then has all three…
            assert_eq!(total(true, "anna rossi rossetti"), Some(1));
            // …or not.
            assert_eq!(total(true, "anna rossi spa"), Some(0));
        }
    );

    db_test!(a_term_in_hundreds_of_words_reads_them_all, |db| {
        let at = now();
        // 901 surnames that all contain "ross", four contacts each: on SQLite the rarest 500
        // terms (SQLITE_GROUPED_ROWS contacts) are one part of the statement and each of the
        // other 401 a part of its own: more than SQLite takes in one compound query.
        let letters = |i: usize| {
            let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
            format!("{}{}{}", letter(i / 676), letter(i / 26), letter(i))
        };
        let records: Vec<_> = (0..901)
            .flat_map(|i| {
                ["Anna", "Bea", "Cora", "Dina"]
                    .map(|first| person(first, &format!("Ross{}", letters(i)), at))
            })
            .collect();
        insert_many(&db, &records).await.unwrap();
        let query = ListQuery {
            q: "ross".into(),
            ..ListQuery::default()
        };
        let Plan::Terms(terms) = plan(&db, &query, (3_604, false), None, 50).await.unwrap() else {
            panic!("not read through the term index");
        };
        assert_eq!(terms.found.len(), 901);
        let page = list(&db, &admin(), &query, 50).await.unwrap();
        assert_eq!((page.total, page.total_is_lower_bound), (3_604, false));
        let (sorted, _, _) = page_rows(&db, &admin(), &query, &Plan::Sparse, 50)
            .await
            .unwrap();
        let sorted: Vec<_> = sorted.into_iter().map(|r| r.display_name).collect();
        let names: Vec<_> = page.items.into_iter().map(|c| c.display_name).collect();
        assert_eq!(names, sorted);
        assert_eq!(names[0], "Anna Rossaaa");
    });

    db_test!(a_mangled_cursor_means_the_first_page, |db| {
        insert_many(&db, &[person("Anna", "Rossi", now())])
            .await
            .unwrap();
        let query = ListQuery {
            after: Some("not-a-cursor".into()),
            ..ListQuery::default()
        };
        let page = list(&db, &admin(), &query, 50).await.unwrap();
        assert_eq!(page.items.len(), 1);
    });

    db_test!(an_edit_saves_once_and_a_stale_version_is_refused, |db| {
        let user = someone(&db).await;
        let layout = crate::fields::store::layout(&db).await.unwrap();
        let id = create(
            &db,
            &user,
            &NewContact::Person {
                first_name: Some("Anna".into()),
                last_name: Some("Rossi".into()),
            },
        )
        .await
        .unwrap();
        let opened = get(&db, id).await.unwrap().unwrap();
        let today = now().date_naive();
        let edit = |c: &Contact, changes: &[(Field, &str)]| {
            let changes: Vec<_> = changes
                .iter()
                .map(|(f, s)| (FieldRef::Standard(*f), s.to_string()))
                .collect();
            crate::contacts::apply_edit(c, &changes, &layout, today).unwrap()
        };

        // The first tab saves a new city and phone…
        let first = edit(
            &opened,
            &[
                (Field::City, "Bologna"),
                (Field::Phone, "347 123 4567"),
                (Field::LastName, "Bianchi"),
            ],
        );
        let saved = update(&db, &user, &layout, &opened, &first).await.unwrap();
        assert_eq!(saved.city.as_deref(), Some("Bologna"));
        assert_eq!(saved.phone.as_deref(), Some("+393471234567"));
        assert_eq!(saved.display_name, "Anna Bianchi");
        assert_eq!(saved.version, opened.version + 1);
        assert!(saved.updated_at >= opened.updated_at);

        // …so the second tab, still on the old version, can't overwrite it silently.
        let second = edit(&opened, &[(Field::City, "Torino")]);
        let refused = update(&db, &user, &layout, &opened, &second)
            .await
            .unwrap_err();
        assert!(matches!(refused, AppError::Conflict), "{refused:?}");
        let stored = get(&db, id).await.unwrap().unwrap();
        assert_eq!(stored.city.as_deref(), Some("Bologna"));

        // The new name is what the list sorts and searches by.
        let found = search(&db, "bianchi").await;
        assert_eq!(found, ["Anna Bianchi"]);
        assert!(search(&db, "rossi").await.is_empty());
    });

    db_test!(previous_and_next_follow_the_searched_sorted_list, |db| {
        let at = now();
        let names = ["Bruno", "Anna", "Carla", "Dario", "Elena"];
        let mut records: Vec<_> = names.iter().map(|n| person(n, "Verdi", at)).collect();
        records.push(person("Zeno", "Neri", at));
        insert_many(&db, &records).await.unwrap();
        let list = ListQuery {
            q: "verdi".into(),
            sort: SortOrder::NameDesc,
            ..ListQuery::default()
        };
        // Elena, Dario, Carla, Bruno, Anna: open Carla from the list, without a place.
        let carla = records
            .iter()
            .find(|r| r.first_name.as_deref() == Some("Carla"))
            .unwrap();
        let carla = get(&db, carla.id).await.unwrap().unwrap();
        let place = ListPlace {
            list: list.clone(),
            ..ListPlace::default()
        };
        let nav = |contact: &Contact, place| {
            let (db, id) = (&db, contact.id);
            async move { open(db, &admin(), id, place).await.unwrap().3 }
        };
        let at_carla = nav(&carla, place).await;
        let name_of = |id: Option<Uuid>| {
            records
                .iter()
                .find(|r| Some(r.id) == id)
                .and_then(|r| r.first_name.clone())
        };
        assert_eq!(name_of(at_carla.previous).as_deref(), Some("Dario"));
        assert_eq!(name_of(at_carla.next).as_deref(), Some("Bruno"));
        assert_eq!(
            at_carla.place.pos,
            Some(3),
            "counted when the URL does not say"
        );
        assert_eq!(
            at_carla.place.of,
            Some(ListTotal {
                count: 5,
                at_least: false
            })
        );

        // The ends have no neighbour beyond them; a known place is taken from the URL.
        let anna = records
            .iter()
            .find(|r| r.first_name.as_deref() == Some("Anna"))
            .unwrap();
        let anna = get(&db, anna.id).await.unwrap().unwrap();
        let at_anna = nav(&anna, at_carla.place.step(true).step(true)).await;
        assert_eq!(at_anna.next, None);
        assert_eq!(name_of(at_anna.previous).as_deref(), Some("Bruno"));
        assert_eq!(at_anna.place.pos, Some(5));
        let elena = records
            .iter()
            .find(|r| r.first_name.as_deref() == Some("Elena"))
            .unwrap();
        let elena = get(&db, elena.id).await.unwrap().unwrap();
        let at_elena = nav(
            &elena,
            ListPlace {
                list,
                ..ListPlace::default()
            },
        )
        .await;
        assert_eq!((at_elena.previous, at_elena.place.pos), (None, Some(1)));

        // The whole list (read with the contact, in the same statement), in each order.
        let whole = |sort| ListPlace {
            list: ListQuery {
                sort,
                ..ListQuery::default()
            },
            ..ListPlace::default()
        };
        // Zeno Neri, Elena, Dario, Carla, Bruno, Anna Verdi.
        let at_carla = nav(&carla, whole(SortOrder::NameDesc)).await;
        assert_eq!(name_of(at_carla.previous).as_deref(), Some("Dario"));
        assert_eq!(name_of(at_carla.next).as_deref(), Some("Bruno"));
        assert_eq!(at_carla.place.pos, Some(4));
        assert_eq!(at_carla.place.of.map(|of| of.count), Some(6));
        let at_bruno = nav(
            &get(&db, records[0].id).await.unwrap().unwrap(),
            at_carla.place.step(true),
        )
        .await;
        assert_eq!(name_of(at_bruno.previous).as_deref(), Some("Carla"));
        assert_eq!(name_of(at_bruno.next).as_deref(), Some("Anna"));
        assert_eq!(at_bruno.place.pos, Some(5), "taken from the place given");
        let at_anna = nav(&anna, whole(SortOrder::NameAsc)).await;
        assert_eq!(
            (at_anna.previous, name_of(at_anna.next).as_deref()),
            (None, Some("Bruno"))
        );

        // Created one a minute apart, after the others: Bruno first, Elena last.
        let mut created: Vec<_> = names.iter().map(|n| person(n, "Rosa", at)).collect();
        for (i, record) in created.iter_mut().enumerate() {
            record.created_at = at + chrono::Duration::minutes(i as i64 + 1);
        }
        insert_many(&db, &created).await.unwrap();
        let dario = get(&db, created[3].id).await.unwrap().unwrap();
        let named = |id: Option<Uuid>| {
            created
                .iter()
                .find(|r| Some(r.id) == id)
                .map(|r| r.first_name.clone().unwrap())
        };
        let at_dario = nav(&dario, whole(SortOrder::CreatedDesc)).await;
        assert_eq!(named(at_dario.previous).as_deref(), Some("Elena"));
        assert_eq!(named(at_dario.next).as_deref(), Some("Carla"));
        let at_dario = nav(&dario, whole(SortOrder::CreatedAsc)).await;
        assert_eq!(named(at_dario.previous).as_deref(), Some("Carla"));
        assert_eq!(named(at_dario.next).as_deref(), Some("Elena"));
    });
}

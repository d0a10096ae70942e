//! Search through the term index (the `term_index` migration): a contact's words and its pairs
//! of neighbouring words, each a row keyed `(term, sort_name, contact)`, so that the page of a
//! search that is one word, or two with something between ("matt", "rossi", "de santis",
//! "caterina farina"), is the merge of the few terms' ranges that contain it, each read in list
//! order only as far as the page. What a page costs depends on how many terms contain the
//! search, not on how many contacts have them, nor where in the list they sit.

use uuid::Uuid;

use super::{
    keeps, row_condition_on, rows_of, search_needle, where_clause, Arg, Plan, Viewer, COUNT_CAP,
};
use crate::{
    contacts::ListQuery,
    db::{Backend, Db},
    error::AppResult,
    with_db,
};

/// The most terms a page merges (each is one short range of the index, a few microseconds); a
/// search in more terms than this ("ros", "mar") is common enough everywhere that walking the
/// list's own index finds its page sooner.
const MAX_TERMS: usize = 1000;

/// The most parts SQLite takes in one compound query is 500: more terms are read in groups.
const SQLITE_COMPOUND_PARTS: usize = 400;

/// On SQLite, the terms that together have at most this many contacts are read as one part of a
/// search (see [`for_each_term`]): sorting that many index rows takes well under a millisecond.
const SQLITE_GROUPED_ROWS: i64 = 2_000;

// A count that caps each part ([`count`]) reads a part past COUNT_CAP as one term past it: the
// part of rare terms must never get there.
const _: () = assert!(SQLITE_GROUPED_ROWS < COUNT_CAP);

/// Trigram indexes find the terms that contain a search from three characters on.
const SHORTEST: usize = 3;

/// The two kinds of terms, each in a table of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TermKind {
    /// A run of three letters or more.
    Word,
    /// Two neighbouring runs of letters with what stands between them, as written.
    Pair,
}

impl TermKind {
    /// The table of its `(term, sort_name, contact_id)` rows.
    fn rows(self) -> &'static str {
        match self {
            TermKind::Word => "contact_words",
            TermKind::Pair => "contact_pairs",
        }
    }

    /// The table of its terms, each once with how many contacts have it.
    fn terms(self) -> &'static str {
        match self {
            TermKind::Word => "search_words",
            TermKind::Pair => "search_pairs",
        }
    }
}

/// A term of the index that contains a search, and how many contacts have it.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct IndexedTerm {
    pub term: String,
    pub contacts: i64,
}

/// The terms of one kind that contain a search, or part of it: they answer it ([`Plan::Terms`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub kind: TermKind,
    pub found: Vec<IndexedTerm>,
    /// Whether the terms hold only part of the search (two of its three words or more): then
    /// every contact they find is checked against the whole search.
    pub partial: bool,
}

/// What the term index is asked for a search `q`: the terms of one kind to look for, any of
/// which finds the contacts that match, and whether they are the whole search.
///
/// A search that is a run of letters (after folding) is in a contact's text exactly when one of
/// its words contains it; one that is two runs with something other than letters between them,
/// exactly when one of its pairs does; so the index finds the very contacts the searched text
/// does. A search of three words or more is in a contact's text only where each two neighbouring
/// runs of it are in one of its pairs: any of those pairs finds every match, and a few more that
/// the whole search then leaves out. `None` for anything else (digits, something before the first
/// letters or after the last, fewer than [`SHORTEST`] characters).
pub(super) fn term_of(q: &str) -> Option<(TermKind, Vec<String>, bool)> {
    let needle = search_needle(q)?;
    if needle.len() < SHORTEST {
        return None;
    }
    // The runs of letters and of other characters, in turn.
    let bytes = needle.as_bytes();
    let mut runs: Vec<&str> = Vec::new();
    let mut start = 0;
    for i in 1..=bytes.len() {
        if i == bytes.len() || bytes[i].is_ascii_lowercase() != bytes[i - 1].is_ascii_lowercase() {
            runs.push(&needle[start..i]);
            start = i;
        }
    }
    let letters = |run: &str| run.bytes().all(|b| b.is_ascii_lowercase());
    if !letters(runs[0]) || !letters(runs[runs.len() - 1]) {
        return None;
    }
    Some(match runs.len() {
        1 => (TermKind::Word, vec![needle], false),
        3 => (TermKind::Pair, vec![needle], false),
        _ => {
            let pairs = (0..runs.len() - 2)
                .step_by(2)
                .map(|i| runs[i..i + 3].concat())
                .collect();
            (TermKind::Pair, pairs, true)
        }
    })
}

/// The terms of `kind` that contain `needle` and that some contact has, found through their
/// trigram index; `None` when there are more than [`MAX_TERMS`].
async fn terms_containing(
    db: &Db,
    kind: TermKind,
    needle: &str,
) -> AppResult<Option<Vec<IndexedTerm>>> {
    let (terms, limit) = (kind.terms(), MAX_TERMS + 1);
    let found: Vec<IndexedTerm> = match db {
        Db::Sqlite(pool, _) => {
            sqlx::query_as(&format!(
                "SELECT {terms}.term, {terms}.contacts FROM {terms}_fts \
                 JOIN {terms} ON {terms}.id = {terms}_fts.rowid \
                 WHERE {terms}_fts MATCH $1 AND {terms}.contacts > 0 LIMIT {limit}"
            ))
            // A quoted FTS5 phrase: with the trigram tokenizer, a substring match.
            .bind(format!("\"{}\"", needle.replace('"', "\"\"")))
            .fetch_all(pool)
            .await?
        }
        Db::Postgres(pool, _) => {
            sqlx::query_as(&format!(
                "SELECT term, contacts FROM {terms} WHERE term LIKE $1 AND contacts > 0 \
                 LIMIT {limit}"
            ))
            .bind(super::like_pattern(needle))
            .fetch_all(pool)
            .await?
        }
    };
    Ok((found.len() <= MAX_TERMS).then_some(found))
}

/// The terms whose ranges answer `query`, when they can: a search the term index answers (see
/// [`term_of`]) in name order, found in no more than [`MAX_TERMS`] terms; of a long search's
/// pairs, the one whose terms fewest contacts have.
pub(super) async fn plan(db: &Db, query: &ListQuery) -> AppResult<Option<Terms>> {
    if query.sort.key().0 != "sort_name" {
        return Ok(None);
    }
    let Some((kind, needles, partial)) = term_of(&query.q) else {
        return Ok(None);
    };
    let contacts = |found: &[IndexedTerm]| found.iter().map(|t| t.contacts).sum::<i64>();
    let mut best: Option<Vec<IndexedTerm>> = None;
    for needle in &needles {
        let Some(found) = terms_containing(db, kind, needle).await? else {
            continue;
        };
        if best
            .as_ref()
            .is_none_or(|best| contacts(&found) < contacts(best))
        {
            best = Some(found);
        }
    }
    Ok(best.map(|found| Terms {
        kind,
        found,
        partial,
    }))
}

/// `per_term`, a read of `{rows} w` for the one term `{term}`, run for each of the terms and put
/// side by side, as a subquery. PostgreSQL joins it LATERAL to the terms (one plan however many
/// there are: planning 121 parts of a UNION took it 13 ms); SQLite has no LATERAL and gets a
/// UNION ALL: one part for the rarest terms together, one for each of the others.
///
/// `{term}` stands for the test of `w.term` (`= …`, or `IN (…)` for several), `{distinct}` for
/// `DISTINCT ` where a part may read a contact more than once.
fn for_each_term(db: &Db, terms: &Terms, per_term: &str, args: &mut Vec<Arg>) -> String {
    let per_term = per_term.replace("{rows}", terms.kind.rows());
    let json = |terms: &[&IndexedTerm]| {
        let all: Vec<&str> = terms.iter().map(|t| t.term.as_str()).collect();
        // A list of strings passed as one argument (a pair may hold any character).
        Arg::Text(serde_json::to_string(&all).expect("a list of strings is JSON"))
    };
    if db.backend() == Backend::Postgres {
        args.push(json(&terms.found.iter().collect::<Vec<_>>()));
        return format!(
            "(SELECT part.* FROM jsonb_array_elements_text(CAST(${} AS jsonb)) AS terms (term) \
             CROSS JOIN LATERAL ({}) AS part)",
            args.len(),
            per_term
                .replace("{term}", "= terms.term")
                .replace("{distinct}", "")
        );
    }
    // The terms few contacts have are read together, as one part that sorts their rows (at most
    // SQLITE_GROUPED_ROWS); each of the others is a part of its own, read in order only as far as
    // it is needed. A search's statement then has a few parts, not one per term ("rossi" is in 83
    // words, most of them company names in emails), so it is short enough to be kept prepared:
    // preparing a statement of 80 parts for every search was a fifth of SQLite's time under load.
    let mut by_size: Vec<&IndexedTerm> = terms.found.iter().collect();
    by_size.sort_by_key(|t| t.contacts);
    let mut rows = 0;
    let grouped = by_size
        .iter()
        .take_while(|t| {
            rows += t.contacts;
            rows <= SQLITE_GROUPED_ROWS
        })
        .count();
    let (rare, common) = if grouped > 1 {
        by_size.split_at(grouped)
    } else {
        (&[][..], &by_size[..])
    };
    let mut parts = Vec::new();
    if !rare.is_empty() {
        args.push(json(rare));
        let test = format!("IN (SELECT value FROM json_each(${}))", args.len());
        parts.push(
            per_term
                .replace("{term}", &test)
                .replace("{distinct}", "DISTINCT "),
        );
    }
    for term in common {
        args.push(Arg::Text(term.term.clone()));
        let test = format!("= ${}", args.len());
        parts.push(per_term.replace("{term}", &test).replace("{distinct}", ""));
    }
    let parts: Vec<String> = parts
        .iter()
        .enumerate()
        .map(|(i, part)| format!("SELECT * FROM ({part}) AS part{i}"))
        .collect();
    let groups: Vec<String> = parts
        .chunks(SQLITE_COMPOUND_PARTS)
        .enumerate()
        .map(|(i, group)| format!("SELECT * FROM ({}) AS group{i}", group.join(" UNION ALL ")))
        .collect();
    format!("({})", groups.join(" UNION ALL "))
}

/// The rows of `{rows} w` a read starts from, and its conditions: when there are conditions on
/// the contact (who may see it, tag filters), its row is joined; without any, the index alone
/// answers.
fn term_rows(conditions: &[String]) -> (&'static str, Vec<String>) {
    let join = if conditions.is_empty() {
        ""
    } else {
        // By the name as well: then the name order's index, which holds the searched text,
        // answers a check of the whole search without reading the contact's row.
        " JOIN contacts ON contacts.sort_name = w.sort_name AND contacts.id = w.contact_id"
    };
    let mut conditions = conditions.to_vec();
    conditions.insert(0, "w.term {term}".into());
    (join, conditions)
}

/// The ids of a page: for each term, its first `limit` contacts from the cursor on that pass
/// `conditions`, in list order; then the first `limit` of those, each once (a contact may have
/// two of the terms).
pub(super) fn page(
    db: &Db,
    terms: &Terms,
    conditions: &[String],
    (cursor, high_to_low): (Option<(Arg, Uuid)>, bool),
    limit: usize,
    args: &mut Vec<Arg>,
) -> String {
    if terms.found.is_empty() {
        // Nothing, read with the conditions all the same: PostgreSQL refuses arguments that a
        // statement does not use.
        let mut nothing = conditions.to_vec();
        nothing.push("1 = 0".into());
        return format!("SELECT contacts.id FROM contacts{}", where_clause(&nothing));
    }
    let (join, mut conditions) = term_rows(conditions);
    if let Some(cursor) = cursor {
        let op = if high_to_low { "<" } else { ">" };
        conditions.push(row_condition_on(
            ("w.sort_name", "w.contact_id"),
            op,
            cursor,
            args,
        ));
    }
    let direction = if high_to_low { "DESC" } else { "ASC" };
    let ranges = for_each_term(
        db,
        terms,
        &format!(
            "SELECT {{distinct}}w.sort_name, w.contact_id FROM {{rows}} w{join}{} \
             ORDER BY w.sort_name {direction}, w.contact_id {direction} LIMIT {limit}",
            where_clause(&conditions)
        ),
        args,
    );
    format!(
        "SELECT contact_id FROM (SELECT DISTINCT sort_name, contact_id FROM {ranges} AS ranges \
         ORDER BY sort_name {direction}, contact_id {direction} LIMIT {limit}) AS page"
    )
}

/// How many contacts of `query`'s list have one of the terms (up to [`COUNT_CAP`], and whether
/// there are more). When every contact with a term counts, the terms' own counts answer: one term
/// past the cap decides at once, one term alone is exact. Otherwise (who may see them, tag
/// filters, the whole of a long search) each term's contacts that count are counted up to the
/// cap, which answers the same way. Else the terms' contacts are counted, each once.
pub(super) async fn count(
    db: &Db,
    viewer: &Viewer,
    query: &ListQuery,
    terms: &Terms,
) -> AppResult<(i64, bool)> {
    if terms.found.is_empty() {
        return Ok((0, false));
    }
    let conditions = || {
        let mut args = Vec::new();
        let everyone = Plan::Terms(Terms {
            found: Vec::new(),
            ..terms.clone()
        });
        let conditions = rows_of(db, viewer, query, &everyone, &mut args).conditions;
        (conditions, args)
    };
    let counted = |distinct: bool| {
        let (conditions, mut args) = conditions();
        let (join, conditions) = term_rows(&conditions);
        let sql = if distinct {
            let ids = for_each_term(
                db,
                terms,
                &format!(
                    "SELECT w.contact_id FROM {{rows}} w{join}{}",
                    where_clause(&conditions)
                ),
                &mut args,
            );
            format!("SELECT COUNT(DISTINCT contact_id) FROM {ids} AS matches")
        } else {
            let counts = for_each_term(
                db,
                terms,
                &format!(
                    "SELECT COUNT(*) AS n FROM (SELECT 1 FROM {{rows}} w{join}{} LIMIT {}) \
                     AS capped",
                    where_clause(&conditions),
                    COUNT_CAP + 1
                ),
                &mut args,
            );
            format!("SELECT MAX(n) FROM {counts} AS counts")
        };
        async move {
            AppResult::Ok(
                with_db!(db, pool => bind_args!(sqlx::query_scalar::<_, i64>(&sql).persistent(keeps(&sql)), &args)
                .fetch_one(pool)
                .await)?,
            )
        }
    };
    let single = terms.found.len() == 1;
    let total = if conditions().0.is_empty() {
        let most = terms.found.iter().map(|t| t.contacts).max();
        match most.unwrap_or_default() {
            most if most > COUNT_CAP || single => most,
            _ => counted(true).await?,
        }
    } else if single {
        counted(false).await?
    } else {
        let all: i64 = terms.found.iter().map(|t| t.contacts).sum();
        match all {
            // Few enough to count each once straight away.
            all if all <= COUNT_CAP => counted(true).await?,
            _ => match counted(false).await? {
                most if most > COUNT_CAP => most,
                _ => counted(true).await?,
            },
        }
    };
    Ok((total.min(COUNT_CAP), total > COUNT_CAP))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_search_is_a_term_when_it_is_one_word_or_two_with_something_between() {
        let kind = |q: &str| term_of(q).map(|(kind, _, _)| kind);
        assert_eq!(
            term_of(" Matt "),
            Some((TermKind::Word, vec!["matt".into()], false))
        );
        assert_eq!(kind("Nicolò"), Some(TermKind::Word), "folded to letters");
        assert_eq!(
            term_of("Caterina Farina"),
            Some((TermKind::Pair, vec!["caterina farina".into()], false))
        );
        assert_eq!(kind("De Santis"), Some(TermKind::Pair));
        assert_eq!(kind("mario.rossi"), Some(TermKind::Pair));
        assert_eq!(kind("d'angelo"), Some(TermKind::Pair));
        assert_eq!(kind("rossi87@gmail"), Some(TermKind::Pair));
        // Not a term: read as before, through the trigram index of the whole text.
        assert_eq!(kind("ma"), None, "too short for a trigram");
        assert_eq!(kind("rossi87"), None, "ends in something else");
        assert_eq!(kind("@gmail"), None, "starts with something else");
        // Three words: each two neighbours are a pair that finds every match, and some more.
        assert_eq!(
            term_of("Anna Maria  De Rossi"),
            Some((
                TermKind::Pair,
                vec!["anna maria".into(), "maria  de".into(), "de rossi".into()],
                true
            ))
        );
        assert_eq!(kind("347 123"), None, "a phone number's digits");
        assert_eq!(kind("  "), None);
    }
}

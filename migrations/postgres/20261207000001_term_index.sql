-- Search in list order through the words of each contact. A trigram index finds a search's
-- matches but hands them over unordered, so a common term clustered in name order (the start of
-- a first name: 23,000 contacts near "matt…" at a million) had to be sorted whole for one page,
-- and a full name ("caterina farina") was found through the lists of every trigram it holds.
-- Here each contact's searched text is kept as terms of two kinds, each a row keyed (term,
-- sort_name, contact):
--   - its words, the runs of three letters or more ("caterina", "farina", "gmail");
--   - its pairs of neighbouring words (runs of letters of any length) with what stands between
--     them, as written ("caterina farina", "farina12@gmail", "d'angelo").
-- A search that is one word, or two with something between, is in a contact's text exactly when
-- it is in one of its words, or pairs: its page is the merge of the few terms' ranges that
-- contain it, each read in list order and stopped at the page (`contacts::store::Plan::Terms`).
-- `search_words` and `search_pairs` hold each term once with how many contacts have it (a search
-- in a term of more than 10,000 is counted without reading them), and a trigram index finds the
-- terms that contain a search. All of it is kept by triggers, so every writer (the previous
-- version's included) keeps it right.
CREATE TABLE contact_words (
    term       TEXT COLLATE "C" NOT NULL,
    -- The collation of contacts.sort_name: the merged ranges come in list order.
    sort_name  TEXT COLLATE "C" NOT NULL,
    contact_id UUID NOT NULL,
    PRIMARY KEY (term, sort_name, contact_id)
);

CREATE TABLE contact_pairs (
    term       TEXT COLLATE "C" NOT NULL,
    sort_name  TEXT COLLATE "C" NOT NULL,
    contact_id UUID NOT NULL,
    PRIMARY KEY (term, sort_name, contact_id)
);

-- Terms are never removed: one that no contact has any more keeps a count of 0.
CREATE TABLE search_words (
    term     TEXT COLLATE "C" PRIMARY KEY,
    contacts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX search_words_trigrams ON search_words USING gin (term gin_trgm_ops);

CREATE TABLE search_pairs (
    term     TEXT COLLATE "C" PRIMARY KEY,
    contacts BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX search_pairs_trigrams ON search_pairs USING gin (term gin_trgm_ops);

-- A text's terms (searched text is folded to lower-case ASCII, so a letter is a-z): its runs of
-- three letters or more, and each run of letters with what follows it up to the next one.
CREATE FUNCTION contact_terms_of(text) RETURNS TABLE (kind TEXT, term TEXT)
LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT kinds.kind, CASE kinds.kind WHEN 'word' THEN run ELSE run || gap || next END
    FROM (
        SELECT m[1] AS run, lead(m[1], 1) OVER runs AS gap, lead(m[1], 2) OVER runs AS next
        FROM regexp_matches($1, '[a-z]+|[^a-z]+', 'g') WITH ORDINALITY AS found (m, at)
        WINDOW runs AS (ORDER BY at)
    ) AS runs,
    (VALUES ('word'), ('pair')) AS kinds (kind)
    WHERE run ~ '^[a-z]'
      AND CASE kinds.kind WHEN 'word' THEN length(run) >= 3 ELSE next IS NOT NULL END
$$;

-- Each trigger files the terms of its statement's contacts in one statement, and changes the
-- terms' counts in the terms' order: two writers lock the counts they share in the same order
-- and wait for each other, never deadlock. Once a statement, not once a row: an import of 5,000
-- contacts files their terms together.
CREATE FUNCTION contact_terms_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH terms AS (
        SELECT t.kind, t.term, added.sort_name, added.id
        FROM added, contact_terms_of(added.search_text) AS t
    ),
    words AS (
        INSERT INTO contact_words (term, sort_name, contact_id)
        SELECT term, sort_name, id FROM terms WHERE kind = 'word'
        ON CONFLICT DO NOTHING
        RETURNING term
    ),
    pairs AS (
        INSERT INTO contact_pairs (term, sort_name, contact_id)
        SELECT term, sort_name, id FROM terms WHERE kind = 'pair'
        ON CONFLICT DO NOTHING
        RETURNING term
    ),
    word_counts AS (
        INSERT INTO search_words (term, contacts)
        SELECT term, COUNT(*) FROM words GROUP BY term ORDER BY term
        ON CONFLICT (term) DO UPDATE SET contacts = search_words.contacts + excluded.contacts
    )
    INSERT INTO search_pairs (term, contacts)
    SELECT term, COUNT(*) FROM pairs GROUP BY term ORDER BY term
    ON CONFLICT (term) DO UPDATE SET contacts = search_pairs.contacts + excluded.contacts;
    RETURN NULL;
END
$$;

CREATE FUNCTION contact_terms_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH terms AS (
        SELECT t.kind, t.term, removed.sort_name, removed.id
        FROM removed, contact_terms_of(removed.search_text) AS t
    ),
    words AS (
        DELETE FROM contact_words c USING terms
        WHERE terms.kind = 'word' AND c.term = terms.term AND c.sort_name = terms.sort_name
          AND c.contact_id = terms.id
        RETURNING c.term
    ),
    pairs AS (
        DELETE FROM contact_pairs c USING terms
        WHERE terms.kind = 'pair' AND c.term = terms.term AND c.sort_name = terms.sort_name
          AND c.contact_id = terms.id
        RETURNING c.term
    ),
    word_counts AS (
        INSERT INTO search_words (term, contacts)
        SELECT term, -COUNT(*) FROM words GROUP BY term ORDER BY term
        ON CONFLICT (term) DO UPDATE SET contacts = search_words.contacts + excluded.contacts
    )
    INSERT INTO search_pairs (term, contacts)
    SELECT term, -COUNT(*) FROM pairs GROUP BY term ORDER BY term
    ON CONFLICT (term) DO UPDATE SET contacts = search_pairs.contacts + excluded.contacts;
    RETURN NULL;
END
$$;

-- Transition tables cannot go with a column list, so this runs for every update of contacts and
-- looks only at the rows whose name or searched text changed. The terms that stay (a word kept
-- under the same name) are neither removed nor added.
CREATE FUNCTION contact_terms_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    WITH changed AS (
        SELECT b.id, b.sort_name AS old_sort, b.search_text AS old_text,
               a.sort_name AS new_sort, a.search_text AS new_text
        FROM before_update b
        JOIN after_update a ON a.id = b.id
        WHERE (a.sort_name, a.search_text) IS DISTINCT FROM (b.sort_name, b.search_text)
    ),
    old_terms AS (
        SELECT t.kind, t.term, old_sort AS sort_name, id FROM changed, contact_terms_of(old_text) AS t
    ),
    new_terms AS (
        SELECT t.kind, t.term, new_sort AS sort_name, id FROM changed, contact_terms_of(new_text) AS t
    ),
    gone AS (SELECT * FROM old_terms EXCEPT SELECT * FROM new_terms),
    came AS (SELECT * FROM new_terms EXCEPT SELECT * FROM old_terms),
    words_gone AS (
        DELETE FROM contact_words c USING gone
        WHERE gone.kind = 'word' AND c.term = gone.term AND c.sort_name = gone.sort_name
          AND c.contact_id = gone.id
        RETURNING c.term
    ),
    pairs_gone AS (
        DELETE FROM contact_pairs c USING gone
        WHERE gone.kind = 'pair' AND c.term = gone.term AND c.sort_name = gone.sort_name
          AND c.contact_id = gone.id
        RETURNING c.term
    ),
    words_came AS (
        INSERT INTO contact_words (term, sort_name, contact_id)
        SELECT term, sort_name, id FROM came WHERE kind = 'word'
        ON CONFLICT DO NOTHING
        RETURNING term
    ),
    pairs_came AS (
        INSERT INTO contact_pairs (term, sort_name, contact_id)
        SELECT term, sort_name, id FROM came WHERE kind = 'pair'
        ON CONFLICT DO NOTHING
        RETURNING term
    ),
    word_counts AS (
        INSERT INTO search_words (term, contacts)
        SELECT term, SUM(d) FROM (
            SELECT term, -1 AS d FROM words_gone UNION ALL SELECT term, 1 FROM words_came
        ) AS deltas
        GROUP BY term HAVING SUM(d) <> 0 ORDER BY term
        ON CONFLICT (term) DO UPDATE SET contacts = search_words.contacts + excluded.contacts
    )
    INSERT INTO search_pairs (term, contacts)
    SELECT term, SUM(d) FROM (
        SELECT term, -1 AS d FROM pairs_gone UNION ALL SELECT term, 1 FROM pairs_came
    ) AS deltas
    GROUP BY term HAVING SUM(d) <> 0 ORDER BY term
    ON CONFLICT (term) DO UPDATE SET contacts = search_pairs.contacts + excluded.contacts;
    RETURN NULL;
END
$$;

CREATE FUNCTION contact_terms_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_words;
    DELETE FROM contact_pairs;
    UPDATE search_words SET contacts = 0;
    UPDATE search_pairs SET contacts = 0;
    RETURN NULL;
END
$$;

-- Instances of the previous version keep writing contacts while this runs (a rolling deploy):
-- the lock waits for their transactions and holds new ones back until the terms of every
-- contact and the triggers are in place together (about a minute at a million on this machine).
LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER contact_terms_after_insert AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION contact_terms_added();
CREATE TRIGGER contact_terms_after_delete AFTER DELETE ON contacts
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION contact_terms_removed();
CREATE TRIGGER contact_terms_after_update AFTER UPDATE ON contacts
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION contact_terms_changed();
CREATE TRIGGER contact_terms_after_truncate AFTER TRUNCATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contact_terms_emptied();

CREATE TEMPORARY TABLE terms_now ON COMMIT DROP AS
    SELECT t.kind, t.term, contacts.sort_name, contacts.id
    FROM contacts, contact_terms_of(contacts.search_text) AS t;
-- Filed in order: the indexes' pages fill one after another rather than split all over.
INSERT INTO contact_words (term, sort_name, contact_id)
    SELECT term, sort_name, id FROM terms_now WHERE kind = 'word' ORDER BY term, sort_name, id;
INSERT INTO contact_pairs (term, sort_name, contact_id)
    SELECT term, sort_name, id FROM terms_now WHERE kind = 'pair' ORDER BY term, sort_name, id;
INSERT INTO search_words (term, contacts)
    SELECT term, COUNT(*) FROM contact_words GROUP BY term;
INSERT INTO search_pairs (term, contacts)
    SELECT term, COUNT(*) FROM contact_pairs GROUP BY term;

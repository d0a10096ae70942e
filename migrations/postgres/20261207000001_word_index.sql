-- Search in list order through the words of each contact. A trigram index finds a search's
-- matches but hands them over unordered, so a common term clustered in name order (the start of
-- a first name: 23,000 contacts near "matt…" at a million) had to be sorted whole for one page.
-- Here every word of a contact's searched text (a run of three letters or more) is a row keyed
-- (word, sort_name, contact): the page of a term is the merge of a few words' ranges, each read
-- in list order and stopped at the page (see `contacts::store::Plan::Words`). `search_words`
-- holds each word once, with a trigram index to find the words that contain a term.
-- Both are kept by triggers, so every writer (the previous version's included) keeps them right.
CREATE TABLE contact_words (
    word       TEXT COLLATE "C" NOT NULL,
    -- The collation of contacts.sort_name: the merged ranges come in list order.
    sort_name  TEXT COLLATE "C" NOT NULL,
    contact_id UUID NOT NULL,
    PRIMARY KEY (word, sort_name, contact_id)
);

-- Words are only ever added: a word no contact has any more costs one empty range.
CREATE TABLE search_words (
    word TEXT COLLATE "C" PRIMARY KEY
);
CREATE INDEX search_words_trigrams ON search_words USING gin (word gin_trgm_ops);

-- The runs of three letters or more (searched text is folded to lower-case ASCII).
CREATE FUNCTION contact_words_of(text) RETURNS SETOF text LANGUAGE sql IMMUTABLE AS $$
    SELECT DISTINCT m[1] FROM regexp_matches($1, '[a-z]{3,}', 'g') AS m
$$;

-- Once a statement, not once a row: an import of 5,000 contacts writes their words together.
CREATE FUNCTION contact_words_added() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO search_words (word)
        SELECT DISTINCT w FROM added, contact_words_of(added.search_text) AS w
        ON CONFLICT DO NOTHING;
    INSERT INTO contact_words (word, sort_name, contact_id)
        SELECT w, added.sort_name, added.id FROM added, contact_words_of(added.search_text) AS w
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION contact_words_removed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_words c
        USING removed, contact_words_of(removed.search_text) AS w
        WHERE c.word = w AND c.sort_name = removed.sort_name AND c.contact_id = removed.id;
    RETURN NULL;
END
$$;

-- Transition tables cannot go with a column list, so this runs for every update of contacts and
-- looks only at the rows whose name or searched text changed.
CREATE FUNCTION contact_words_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_words c
        USING before_update b
        JOIN after_update a ON a.id = b.id
            AND (a.sort_name, a.search_text) IS DISTINCT FROM (b.sort_name, b.search_text),
        contact_words_of(b.search_text) AS w
        WHERE c.word = w AND c.sort_name = b.sort_name AND c.contact_id = b.id;
    INSERT INTO search_words (word)
        SELECT DISTINCT w
        FROM after_update a
        JOIN before_update b ON b.id = a.id
            AND (a.sort_name, a.search_text) IS DISTINCT FROM (b.sort_name, b.search_text),
        contact_words_of(a.search_text) AS w
        ON CONFLICT DO NOTHING;
    INSERT INTO contact_words (word, sort_name, contact_id)
        SELECT w, a.sort_name, a.id
        FROM after_update a
        JOIN before_update b ON b.id = a.id
            AND (a.sort_name, a.search_text) IS DISTINCT FROM (b.sort_name, b.search_text),
        contact_words_of(a.search_text) AS w
        ON CONFLICT DO NOTHING;
    RETURN NULL;
END
$$;

CREATE FUNCTION contact_words_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM contact_words;
    RETURN NULL;
END
$$;

-- Instances of the previous version keep writing contacts while this runs (a rolling deploy):
-- the lock waits for their transactions and holds new ones back until the words of every
-- contact and the triggers are in place together (37 s at a million on this machine).
LOCK TABLE contacts IN SHARE ROW EXCLUSIVE MODE;

CREATE TRIGGER contact_words_after_insert AFTER INSERT ON contacts
    REFERENCING NEW TABLE AS added FOR EACH STATEMENT EXECUTE FUNCTION contact_words_added();
CREATE TRIGGER contact_words_after_delete AFTER DELETE ON contacts
    REFERENCING OLD TABLE AS removed FOR EACH STATEMENT EXECUTE FUNCTION contact_words_removed();
CREATE TRIGGER contact_words_after_update AFTER UPDATE ON contacts
    REFERENCING OLD TABLE AS before_update NEW TABLE AS after_update
    FOR EACH STATEMENT EXECUTE FUNCTION contact_words_changed();
CREATE TRIGGER contact_words_after_truncate AFTER TRUNCATE ON contacts
    FOR EACH STATEMENT EXECUTE FUNCTION contact_words_emptied();

INSERT INTO search_words (word)
    SELECT DISTINCT w FROM contacts, contact_words_of(contacts.search_text) AS w;
INSERT INTO contact_words (word, sort_name, contact_id)
    SELECT w, contacts.sort_name, contacts.id FROM contacts, contact_words_of(contacts.search_text) AS w;

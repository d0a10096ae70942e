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
-- terms that contain a search. All of it is kept by triggers.
CREATE TABLE contact_words (
    term       TEXT NOT NULL,
    sort_name  TEXT NOT NULL,
    contact_id BLOB NOT NULL,
    PRIMARY KEY (term, sort_name, contact_id)
) WITHOUT ROWID;

CREATE TABLE contact_pairs (
    term       TEXT NOT NULL,
    sort_name  TEXT NOT NULL,
    contact_id BLOB NOT NULL,
    PRIMARY KEY (term, sort_name, contact_id)
) WITHOUT ROWID;

-- Terms are never removed: one that no contact has any more keeps a count of 0.
CREATE TABLE search_words (
    id       INTEGER PRIMARY KEY,
    term     TEXT NOT NULL UNIQUE,
    contacts INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE search_pairs (
    id       INTEGER PRIMARY KEY,
    term     TEXT NOT NULL UNIQUE,
    contacts INTEGER NOT NULL DEFAULT 0
);

CREATE VIRTUAL TABLE search_words_fts USING fts5(
    term,
    content = 'search_words',
    content_rowid = 'id',
    tokenize = 'trigram'
);

CREATE VIRTUAL TABLE search_pairs_fts USING fts5(
    term,
    content = 'search_pairs',
    content_rowid = 'id',
    tokenize = 'trigram'
);

CREATE TRIGGER search_words_after_insert AFTER INSERT ON search_words BEGIN
    INSERT INTO search_words_fts (rowid, term) VALUES (new.id, new.term);
END;

CREATE TRIGGER search_pairs_after_insert AFTER INSERT ON search_pairs BEGIN
    INSERT INTO search_pairs_fts (rowid, term) VALUES (new.id, new.term);
END;

CREATE TRIGGER contact_words_after_insert AFTER INSERT ON contact_words BEGIN
    INSERT INTO search_words (term, contacts) VALUES (new.term, 1)
        ON CONFLICT (term) DO UPDATE SET contacts = contacts + 1;
END;

CREATE TRIGGER contact_words_after_delete AFTER DELETE ON contact_words BEGIN
    UPDATE search_words SET contacts = contacts - 1 WHERE term = old.term;
END;

CREATE TRIGGER contact_pairs_after_insert AFTER INSERT ON contact_pairs BEGIN
    INSERT INTO search_pairs (term, contacts) VALUES (new.term, 1)
        ON CONFLICT (term) DO UPDATE SET contacts = contacts + 1;
END;

CREATE TRIGGER contact_pairs_after_delete AFTER DELETE ON contact_pairs BEGIN
    UPDATE search_pairs SET contacts = contacts - 1 WHERE term = old.term;
END;

-- SQLite has no function that splits text, and a trigger may not hold a WITH clause; a view may.
-- A trigger puts one contact's text into `term_split_input`, copies its terms from the view
-- `term_split` into `term_split_output` (the text is read once for both kinds), files them, and
-- empties both again (writers take turns in SQLite, so they hold one contact at a time).
CREATE TABLE term_split_input (
    contact_id BLOB NOT NULL,
    sort_name  TEXT NOT NULL,
    text       TEXT NOT NULL
);

CREATE TABLE term_split_output (
    kind       TEXT NOT NULL,
    term       TEXT NOT NULL,
    sort_name  TEXT NOT NULL,
    contact_id BLOB NOT NULL
);

-- The text read a character at a time (searched text is folded to lower-case ASCII, so a letter
-- is a-z), keeping the word being read, the one before it and what stands between them; where a
-- word ends, it is a term (three letters or more) and so is the pair it ends.
CREATE VIEW term_split AS
WITH RECURSIVE step (contact_id, sort_name, previous, gap, word, rest) AS (
    SELECT contact_id, sort_name, '', '', '', text || ' ' FROM term_split_input
    UNION ALL
    SELECT contact_id, sort_name,
           CASE WHEN substr(rest, 1, 1) BETWEEN 'a' AND 'z' OR word = '' THEN previous ELSE word END,
           CASE WHEN substr(rest, 1, 1) BETWEEN 'a' AND 'z' THEN gap
                WHEN word = '' THEN gap || substr(rest, 1, 1)
                ELSE substr(rest, 1, 1) END,
           CASE WHEN substr(rest, 1, 1) BETWEEN 'a' AND 'z' THEN word || substr(rest, 1, 1) ELSE '' END,
           substr(rest, 2)
    FROM step
    WHERE rest <> ''
)
SELECT DISTINCT kinds.kind,
       CASE kinds.kind WHEN 'word' THEN word ELSE previous || gap || word END AS term,
       sort_name, contact_id
FROM step, (SELECT 'word' AS kind UNION ALL SELECT 'pair') AS kinds
WHERE word <> '' AND NOT (substr(rest, 1, 1) BETWEEN 'a' AND 'z')
  AND CASE kinds.kind WHEN 'word' THEN length(word) >= 3 ELSE previous <> '' END;

CREATE TRIGGER contact_terms_on_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO term_split_input (contact_id, sort_name, text) VALUES (new.id, new.sort_name, new.search_text);
    INSERT INTO term_split_output SELECT kind, term, sort_name, contact_id FROM term_split;
    INSERT OR IGNORE INTO contact_words (term, sort_name, contact_id)
        SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'word';
    INSERT OR IGNORE INTO contact_pairs (term, sort_name, contact_id)
        SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'pair';
    DELETE FROM term_split_output;
    DELETE FROM term_split_input;
END;

CREATE TRIGGER contact_terms_on_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO term_split_input (contact_id, sort_name, text) VALUES (old.id, old.sort_name, old.search_text);
    INSERT INTO term_split_output SELECT kind, term, sort_name, contact_id FROM term_split;
    DELETE FROM contact_words WHERE (term, sort_name, contact_id) IN
        (SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'word');
    DELETE FROM contact_pairs WHERE (term, sort_name, contact_id) IN
        (SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'pair');
    DELETE FROM term_split_output;
    DELETE FROM term_split_input;
END;

CREATE TRIGGER contact_terms_on_update AFTER UPDATE OF sort_name, search_text ON contacts
WHEN old.sort_name IS NOT new.sort_name OR old.search_text IS NOT new.search_text BEGIN
    INSERT INTO term_split_input (contact_id, sort_name, text) VALUES (old.id, old.sort_name, old.search_text);
    INSERT INTO term_split_output SELECT kind, term, sort_name, contact_id FROM term_split;
    DELETE FROM contact_words WHERE (term, sort_name, contact_id) IN
        (SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'word');
    DELETE FROM contact_pairs WHERE (term, sort_name, contact_id) IN
        (SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'pair');
    DELETE FROM term_split_output;
    DELETE FROM term_split_input;
    INSERT INTO term_split_input (contact_id, sort_name, text) VALUES (new.id, new.sort_name, new.search_text);
    INSERT INTO term_split_output SELECT kind, term, sort_name, contact_id FROM term_split;
    INSERT OR IGNORE INTO contact_words (term, sort_name, contact_id)
        SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'word';
    INSERT OR IGNORE INTO contact_pairs (term, sort_name, contact_id)
        SELECT term, sort_name, contact_id FROM term_split_output WHERE kind = 'pair';
    DELETE FROM term_split_output;
    DELETE FROM term_split_input;
END;

-- The contacts already there: about 3 minutes at a million on this machine (writes wait
-- meanwhile; SQLite serves one instance, which runs this before it listens). Their terms are
-- gathered aside first (in the temporary database) and filed in order, so that the tables' pages
-- are filled one after another rather than split all over.
INSERT INTO term_split_input (contact_id, sort_name, text) SELECT id, sort_name, search_text FROM contacts;
CREATE TEMPORARY TABLE terms_now AS SELECT kind, term, sort_name, contact_id FROM term_split;
DELETE FROM term_split_input;
INSERT INTO contact_words (term, sort_name, contact_id)
    SELECT term, sort_name, contact_id FROM terms_now WHERE kind = 'word'
    ORDER BY term, sort_name, contact_id;
INSERT INTO contact_pairs (term, sort_name, contact_id)
    SELECT term, sort_name, contact_id FROM terms_now WHERE kind = 'pair'
    ORDER BY term, sort_name, contact_id;
DROP TABLE terms_now;

-- Search in list order through the words of each contact. A trigram index finds a search's
-- matches but hands them over unordered, so a common term clustered in name order (the start of
-- a first name: 23,000 contacts near "matt…" at a million) had to be sorted whole for one page.
-- Here every word of a contact's searched text (a run of three letters or more) is a row keyed
-- (word, sort_name, contact): the page of a term is the merge of a few words' ranges, each read
-- in list order and stopped at the page (see `contacts::store::Plan::Words`). `search_words`
-- holds each word once, with a trigram index to find the words that contain a term.
-- Both are kept by triggers, so every writer (the previous version's included) keeps them right.
CREATE TABLE contact_words (
    word       TEXT NOT NULL,
    sort_name  TEXT NOT NULL,
    contact_id BLOB NOT NULL,
    PRIMARY KEY (word, sort_name, contact_id)
) WITHOUT ROWID;

-- Words are only ever added: a word no contact has any more costs one empty range.
CREATE TABLE search_words (
    id   INTEGER PRIMARY KEY,
    word TEXT NOT NULL UNIQUE
);

CREATE VIRTUAL TABLE search_words_fts USING fts5(
    word,
    content = 'search_words',
    content_rowid = 'id',
    tokenize = 'trigram'
);

CREATE TRIGGER search_words_after_insert AFTER INSERT ON search_words BEGIN
    INSERT INTO search_words_fts (rowid, word) VALUES (new.id, new.word);
END;

CREATE TRIGGER contact_words_after_insert AFTER INSERT ON contact_words BEGIN
    INSERT OR IGNORE INTO search_words (word) VALUES (new.word);
END;

-- SQLite has no function that splits text, and a trigger may not hold a WITH clause; a view may.
-- A trigger puts one contact's text here, reads its words from `word_split`, and empties it again
-- (writers take turns in SQLite, so it holds one contact at a time).
CREATE TABLE word_split_input (
    contact_id BLOB NOT NULL,
    sort_name  TEXT NOT NULL,
    text       TEXT NOT NULL
);

-- The runs of three letters or more in each input text, read a character at a time (searched
-- text is folded to lower-case ASCII, so a letter is a-z).
CREATE VIEW word_split AS
WITH RECURSIVE step (contact_id, sort_name, word, rest) AS (
    SELECT contact_id, sort_name, '', text || ' ' FROM word_split_input
    UNION ALL
    SELECT contact_id, sort_name,
           CASE WHEN substr(rest, 1, 1) BETWEEN 'a' AND 'z' THEN word || substr(rest, 1, 1) ELSE '' END,
           substr(rest, 2)
    FROM step
    WHERE rest <> ''
)
SELECT DISTINCT word, sort_name, contact_id
FROM step
WHERE length(word) >= 3 AND NOT (substr(rest, 1, 1) BETWEEN 'a' AND 'z');

CREATE TRIGGER contact_words_on_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO word_split_input (contact_id, sort_name, text) VALUES (new.id, new.sort_name, new.search_text);
    INSERT OR IGNORE INTO contact_words (word, sort_name, contact_id)
        SELECT word, sort_name, contact_id FROM word_split;
    DELETE FROM word_split_input;
END;

CREATE TRIGGER contact_words_on_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO word_split_input (contact_id, sort_name, text) VALUES (old.id, old.sort_name, old.search_text);
    DELETE FROM contact_words WHERE (word, sort_name, contact_id) IN (SELECT word, sort_name, contact_id FROM word_split);
    DELETE FROM word_split_input;
END;

CREATE TRIGGER contact_words_on_update AFTER UPDATE OF sort_name, search_text ON contacts
WHEN old.sort_name IS NOT new.sort_name OR old.search_text IS NOT new.search_text BEGIN
    INSERT INTO word_split_input (contact_id, sort_name, text) VALUES (old.id, old.sort_name, old.search_text);
    DELETE FROM contact_words WHERE (word, sort_name, contact_id) IN (SELECT word, sort_name, contact_id FROM word_split);
    DELETE FROM word_split_input;
    INSERT INTO word_split_input (contact_id, sort_name, text) VALUES (new.id, new.sort_name, new.search_text);
    INSERT OR IGNORE INTO contact_words (word, sort_name, contact_id)
        SELECT word, sort_name, contact_id FROM word_split;
    DELETE FROM word_split_input;
END;

-- The contacts already there: about 85 s at a million on this machine (writes wait meanwhile;
-- SQLite serves one instance, which runs this before it listens).
INSERT INTO word_split_input (contact_id, sort_name, text) SELECT id, sort_name, search_text FROM contacts;
INSERT INTO contact_words (word, sort_name, contact_id) SELECT word, sort_name, contact_id FROM word_split;
DELETE FROM word_split_input;

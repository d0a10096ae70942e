-- Substring search over a million contacts without reading them all: an FTS5 trigram index over
-- contacts.search_text (external content, so the text is stored once), kept in step by triggers.
CREATE VIRTUAL TABLE contacts_fts USING fts5(
    search_text,
    content = 'contacts',
    content_rowid = 'rowid',
    tokenize = 'trigram'
);

INSERT INTO contacts_fts (rowid, search_text) SELECT rowid, search_text FROM contacts;

CREATE TRIGGER contacts_fts_after_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

CREATE TRIGGER contacts_fts_after_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
END;

CREATE TRIGGER contacts_fts_after_update AFTER UPDATE OF search_text ON contacts BEGIN
    INSERT INTO contacts_fts (contacts_fts, rowid, search_text) VALUES ('delete', old.rowid, old.search_text);
    INSERT INTO contacts_fts (rowid, search_text) VALUES (new.rowid, new.search_text);
END;

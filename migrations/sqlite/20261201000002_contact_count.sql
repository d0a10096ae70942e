-- How many contacts there are, kept up to date by triggers, so that the unfiltered list's total
-- is read rather than counted (COUNT(*) reads every row: 11 ms at a million contacts).
CREATE TABLE contact_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    n  INTEGER NOT NULL
);
INSERT INTO contact_count (id, n) SELECT 1, COUNT(*) FROM contacts;

CREATE TRIGGER contact_count_after_insert AFTER INSERT ON contacts BEGIN
    UPDATE contact_count SET n = n + 1 WHERE id = 1;
END;

CREATE TRIGGER contact_count_after_delete AFTER DELETE ON contacts BEGIN
    UPDATE contact_count SET n = n - 1 WHERE id = 1;
END;

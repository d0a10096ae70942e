-- Per-user choices the server remembers for every device: NULL means "not chosen yet" (the
-- contact page then hides empty fields on narrow screens only; the language follows the browser).
ALTER TABLE users ADD COLUMN hide_empty_fields BOOLEAN;
ALTER TABLE users ADD COLUMN locale TEXT;

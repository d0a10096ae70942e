-- Failed sign-ins per email (see `auth::ssr::throttle`): in the database rather than in each
-- server's memory, so that several instances share one allowance.
CREATE TABLE sign_in_failures (
    key   TEXT PRIMARY KEY NOT NULL,   -- SHA-256 (hex) of the email, trimmed and lower-cased
    spent REAL NOT NULL,               -- failures still counted as of `at`
    at    TEXT NOT NULL
);
CREATE INDEX sign_in_failures_at ON sign_in_failures (at);

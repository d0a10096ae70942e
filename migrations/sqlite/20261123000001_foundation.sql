-- Users, their server-side sessions, per-user preferences, and contacts with the standard fields.
-- UUIDs are stored as 16-byte BLOBs, timestamps as RFC 3339 text in UTC (what sqlx writes).

CREATE TABLE users (
    id            BLOB PRIMARY KEY NOT NULL,
    email         TEXT NOT NULL UNIQUE,          -- lower-cased
    name          TEXT NOT NULL,
    password_hash TEXT NOT NULL,                 -- argon2id PHC string
    is_admin      BOOLEAN NOT NULL DEFAULT FALSE,
    disabled_at   TEXT,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);

-- The cookie carries a random token; only its SHA-256 is stored, so a copy of the database does not
-- hand out live sessions.
CREATE TABLE sessions (
    token_hash   BLOB PRIMARY KEY NOT NULL,
    user_id      BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_last_seen ON sessions (last_seen_at);

CREATE TABLE contacts (
    id                 BLOB PRIMARY KEY NOT NULL,
    kind               TEXT NOT NULL CHECK (kind IN ('person', 'company')),
    -- Contact
    first_name         TEXT,
    last_name          TEXT,
    email              TEXT,
    phone              TEXT,                      -- E.164
    date_of_birth      TEXT,                      -- YYYY-MM-DD
    contact_source     TEXT,
    contact_type       TEXT,
    -- General Info
    business_name      TEXT,
    street_address     TEXT,
    city               TEXT,
    country            TEXT,
    state              TEXT,
    postal_code        TEXT,
    website            TEXT,
    time_zone          TEXT,
    -- Additional Info
    role               TEXT,
    gender             TEXT,
    lead_status        TEXT CHECK (lead_status IN ('cold', 'warm', 'hot')),
    utm_source         TEXT,
    utm_medium         TEXT,
    utm_campaign       TEXT,
    email_subscription TEXT NOT NULL DEFAULT 'subscribed',
    -- Derived, kept by the application on every write: what lists show, sort and search on.
    display_name       TEXT NOT NULL,
    sort_name          TEXT NOT NULL,
    search_text        TEXT NOT NULL,
    version            BIGINT NOT NULL DEFAULT 1,
    created_at         TEXT NOT NULL,
    updated_at         TEXT NOT NULL
);
-- Keyset pagination: every sort order is (key, id), each with its index.
CREATE INDEX contacts_by_name ON contacts (sort_name, id);
CREATE INDEX contacts_by_created ON contacts (created_at, id);
CREATE INDEX contacts_by_updated ON contacts (updated_at, id);

-- One row (id = 1) once the workspace is set up; first-run setup inserts it together with the first
-- admin, so two setups racing each other cannot both succeed.
CREATE TABLE workspace (
    id         INTEGER PRIMARY KEY NOT NULL CHECK (id = 1),
    created_at TEXT NOT NULL
);

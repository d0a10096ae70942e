-- The rest of the contact card and the team around it: folders and custom fields, contact types,
-- tags, owner and followers, who may see a contact, Do Not Disturb, the audit log, and the links
-- that let invited users set (or reset) their password.

-- Invitations and password resets: single use, expiring. Only the SHA-256 of the token is kept,
-- like sessions. An invited user has an empty password_hash (which never verifies) until they
-- set one from the link.
CREATE TABLE password_tokens (
    token_hash BYTEA PRIMARY KEY,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose    TEXT NOT NULL CHECK (purpose IN ('invite', 'reset')),
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL,
    used_at    TIMESTAMPTZ
);
CREATE INDEX password_tokens_user ON password_tokens (user_id);

-- The card's folders: the three standard ones (`standard` set: never renamed or deleted; their
-- names come from the interface's language) and the team's own (`name` set).
CREATE TABLE folders (
    id         UUID PRIMARY KEY,
    standard   TEXT UNIQUE CHECK (standard IN ('contact', 'general_info', 'additional_info')),
    name       TEXT,
    position   INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK ((standard IS NULL) <> (name IS NULL))
);

-- Every field of the card, in its folder and place. A standard field (`standard` = its column in
-- `contacts`) can be moved but not renamed, retyped or deleted; a custom one has a name, a type and,
-- for selects, its options (a JSON array of strings). Custom values live in `field_values`.
CREATE TABLE fields (
    id         UUID PRIMARY KEY,
    standard   TEXT UNIQUE,
    name       TEXT,
    field_type TEXT CHECK (field_type IN ('text', 'long_text', 'number', 'decimal', 'date',
        'date_time', 'checkbox', 'single_select', 'multi_select', 'email', 'phone', 'url')),
    options    TEXT,
    folder_id  UUID NOT NULL REFERENCES folders (id),
    position   INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL,
    CHECK ((standard IS NULL) = (name IS NOT NULL AND field_type IS NOT NULL))
);
CREATE INDEX fields_by_folder ON fields (folder_id, position);

-- A custom field's value for one contact, in its type's canonical text (numbers with a '.', dates
-- YYYY-MM-DD, date-times YYYY-MM-DDTHH:MM, multi-selects a JSON array). No row: empty.
CREATE TABLE field_values (
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    field_id   UUID NOT NULL REFERENCES fields (id) ON DELETE CASCADE,
    value      TEXT NOT NULL,
    PRIMARY KEY (contact_id, field_id)
);
CREATE INDEX field_values_by_field ON field_values (field_id);

-- The team's list of contact types. The defaults (`standard` set, until renamed) are named in the
-- interface's language.
CREATE TABLE contact_types (
    id         UUID PRIMARY KEY,
    standard   TEXT UNIQUE,
    name       TEXT,
    position   INTEGER NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    CHECK (standard IS NOT NULL OR name IS NOT NULL)
);

-- Tags: a name (unique however it is capitalised or accented: `name_key`) and a colour from the
-- palette. `automatic` marks a tag the system put on a contact (a lead form, a purchase).
CREATE TABLE tags (
    id         UUID PRIMARY KEY,
    name       TEXT NOT NULL,
    name_key   TEXT NOT NULL UNIQUE,
    color      TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL
);
CREATE TABLE contact_tags (
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    tag_id     UUID NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    automatic  BOOLEAN NOT NULL DEFAULT FALSE,
    source     TEXT,
    added_by   UUID REFERENCES users (id),
    added_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (contact_id, tag_id)
);
-- "Contacts tagged X" starts from the tag.
CREATE INDEX contact_tags_by_tag ON contact_tags (tag_id, contact_id);

CREATE TABLE contact_followers (
    contact_id UUID NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    user_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    added_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (contact_id, user_id)
);
CREATE INDEX contact_followers_by_user ON contact_followers (user_id, contact_id);

-- Owner, visibility (shared with the team, or private to the owner and followers) and Do Not
-- Disturb, all channels at once or per channel.
ALTER TABLE contacts ADD COLUMN owner_id UUID REFERENCES users (id);
ALTER TABLE contacts ADD COLUMN visibility TEXT NOT NULL DEFAULT 'team' CHECK (visibility IN ('team', 'private'));
ALTER TABLE contacts ADD COLUMN dnd_all BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN dnd_email BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN dnd_sms BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN dnd_whatsapp BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN dnd_calls BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN dnd_inbound BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN contact_type_id UUID REFERENCES contact_types (id);
CREATE INDEX contacts_by_owner ON contacts (owner_id);
-- Private contacts are few: members' lists look them up by this index, not by reading every row.
CREATE INDEX contacts_private ON contacts (visibility) WHERE visibility = 'private';

-- Every change to a contact: who, when, which field, the value before and after. Written in the
-- same transaction as the change; the trigger below refuses any edit or deletion. No foreign key
-- to contacts: the history outlives the contact.
CREATE TABLE audit_log (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    contact_id UUID NOT NULL,
    actor_id   UUID,
    actor_name TEXT,
    at         TIMESTAMPTZ NOT NULL,
    field      TEXT NOT NULL,
    label      TEXT,
    old_value  TEXT,
    new_value  TEXT
);
CREATE INDEX audit_log_by_contact ON audit_log (contact_id, id);
CREATE FUNCTION audit_log_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit log entries are never changed or deleted';
END
$$;
CREATE TRIGGER audit_log_is_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_is_append_only();

INSERT INTO folders (id, standard, name, position, created_at) VALUES
    ('00000000-0000-0000-0000-0000f0000001', 'contact', NULL, 1, '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000f0000002', 'general_info', NULL, 2, '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000f0000003', 'additional_info', NULL, 3, '2026-11-25T00:00:00Z');
INSERT INTO fields (id, standard, name, field_type, options, folder_id, position, created_at, updated_at) VALUES
    ('00000000-0000-0000-0000-0000e0000001', 'first_name', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000001', 1, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000002', 'last_name', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000001', 2, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000003', 'email', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000001', 3, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000004', 'phone', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000001', 4, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000005', 'date_of_birth', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000001', 5, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000006', 'contact_source', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000001', 6, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000007', 'contact_type', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000001', 7, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000008', 'business_name', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 1, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000009', 'street_address', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 2, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e000000a', 'city', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 3, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e000000b', 'country', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 4, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e000000c', 'state', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 5, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e000000d', 'postal_code', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 6, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e000000e', 'website', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 7, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e000000f', 'time_zone', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000002', 8, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000010', 'role', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000003', 1, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000011', 'gender', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000003', 2, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000012', 'lead_status', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000003', 3, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000013', 'utm_source', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000003', 4, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000014', 'utm_medium', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000003', 5, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000e0000015', 'utm_campaign', NULL, NULL, NULL, '00000000-0000-0000-0000-0000f0000003', 6, '2026-11-25T00:00:00Z', '2026-11-25T00:00:00Z');
INSERT INTO contact_types (id, standard, name, position, created_at) VALUES
    ('00000000-0000-0000-0000-0000d0000001', 'lead', NULL, 1, '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000d0000002', 'customer', NULL, 2, '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000d0000003', 'supplier', NULL, 3, '2026-11-25T00:00:00Z'),
    ('00000000-0000-0000-0000-0000d0000004', 'partner', NULL, 4, '2026-11-25T00:00:00Z');
-- Contact types were free text from a fixed list; they become references to the team's list.
UPDATE contacts SET contact_type_id = (
    SELECT id FROM contact_types WHERE contact_types.standard = lower(contacts.contact_type)
) WHERE contact_type IS NOT NULL;
ALTER TABLE contacts DROP COLUMN contact_type;

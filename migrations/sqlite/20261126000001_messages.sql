-- The conversation with a contact: every message on every channel, sent or received, and the
-- queue of messages waiting to be sent. A message waiting (`pending`) is claimed by one
-- dispatcher at a time (`sending`, with a lease that expires if that server dies), then ends
-- `sent`, `delivered`, `failed` (with the reason) or `cancelled`; a reply is `received`.
CREATE TABLE messages (
    id              BLOB PRIMARY KEY NOT NULL,
    contact_id      BLOB NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    channel         TEXT NOT NULL CHECK (channel IN ('email', 'sms', 'whatsapp')),
    direction       TEXT NOT NULL CHECK (direction IN ('out', 'in')),
    author_id       BLOB REFERENCES users (id),
    subject         TEXT,
    body            TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
        ('pending', 'sending', 'sent', 'delivered', 'failed', 'cancelled', 'received')),
    -- Scheduled by a person for a later time (rather than sent now).
    scheduled       BOOLEAN NOT NULL DEFAULT FALSE,
    -- When it is due, and the zone the person scheduled it in (shown back to them).
    send_at         TEXT,
    send_zone       TEXT,
    -- When the dispatcher should next try (send_at, or later after a transient failure).
    next_attempt_at TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    lease_until     TEXT,
    failure         TEXT,
    -- One per message, for ever: the email's Message-ID and the providers' idempotency key, so a
    -- resend after a crash is recognisable as the same message.
    message_key     TEXT NOT NULL UNIQUE,
    provider_id     TEXT,
    read_at         TEXT,
    sent_at         TEXT,
    -- What the provider reported after taking it (SMS, WhatsApp): delivered, or failed with its
    -- words. Kept beside `status` so a report arriving before the send is recorded is not lost.
    delivered_at    TEXT,
    delivery_failure TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX messages_thread ON messages (contact_id, created_at, id);
-- What the dispatcher looks for: due or abandoned messages, by time.
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status IN ('pending', 'sending');
-- Providers' webhooks name messages by the provider's id; a reply is kept once however often the
-- provider repeats its webhook.
CREATE UNIQUE INDEX messages_by_provider ON messages (channel, provider_id);
-- Replies are matched to their contact by phone number.
CREATE INDEX contacts_by_phone ON contacts (phone);

-- Snippets: saved texts for the composer, a user's own (`owner_id`) or the team's (no owner).
CREATE TABLE snippets (
    id         BLOB PRIMARY KEY NOT NULL,
    owner_id   BLOB REFERENCES users (id) ON DELETE CASCADE,
    created_by BLOB REFERENCES users (id) ON DELETE SET NULL,
    name       TEXT NOT NULL,
    subject    TEXT,
    body       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX snippets_by_owner ON snippets (owner_id, name);

-- Files attached to messages, kept in the database itself so that every instance behind a load
-- balancer serves them and a backup of the database holds them. Uploaded with the draft
-- (`message_id` empty until it is sent or scheduled), for one contact.
CREATE TABLE attachments (
    id           BLOB PRIMARY KEY NOT NULL,
    contact_id   BLOB NOT NULL REFERENCES contacts (id) ON DELETE CASCADE,
    message_id   BLOB REFERENCES messages (id) ON DELETE CASCADE,
    uploaded_by  BLOB REFERENCES users (id) ON DELETE SET NULL,
    file_name    TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size         BIGINT NOT NULL,
    data         BLOB NOT NULL,
    created_at   TEXT NOT NULL
);
CREATE INDEX attachments_by_message ON attachments (message_id);
CREATE INDEX attachments_by_contact ON attachments (contact_id, created_at);

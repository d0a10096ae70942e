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
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL
);
CREATE INDEX messages_thread ON messages (contact_id, created_at, id);
-- What the dispatcher looks for: due or abandoned messages, by time.
CREATE INDEX messages_due ON messages (next_attempt_at) WHERE status IN ('pending', 'sending');

-- The dispatcher's questions, each answered from a small index instead of by reading every
-- message (100,000 scheduled messages made each of its wake-ups a full scan): the earliest
-- pending message, and the claims whose lease ran out. Each query names exactly one status, so
-- both engines use these partial indexes (SQLite only when the query repeats the index's WHERE).
CREATE INDEX messages_pending ON messages (next_attempt_at) WHERE status = 'pending';
CREATE INDEX messages_leased ON messages (lease_until) WHERE status = 'sending';

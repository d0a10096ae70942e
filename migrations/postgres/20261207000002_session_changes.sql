-- Every instance remembers who each session cookie belongs to (app/src/auth/cache.rs) and listens
-- on this channel; any change that could make what it remembers wrong tells all of them to forget.
-- Once a statement: a user's sessions ended together are one notification, and PostgreSQL folds
-- the notifications of one transaction into one.
CREATE FUNCTION sessions_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('rubrica_sessions_changed', '');
    RETURN NULL;
END
$$;

-- A user's name, role, language, Hide empty fields, password or disabling.
CREATE TRIGGER users_changed AFTER UPDATE OR DELETE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_changed();

-- Signing out, a password set from a link, a user disabled, idle sessions purged. (New sessions
-- and `last_seen_at` being written change nothing remembered.)
CREATE TRIGGER sessions_ended AFTER DELETE ON sessions
    FOR EACH STATEMENT EXECUTE FUNCTION sessions_changed();

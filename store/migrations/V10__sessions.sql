-- Sessions: one per sign-in. An access token names its session (`sid`), and both APIs refuse a
-- token whose session has ended, so ending a session ends its access tokens at once. A session
-- ends on sign-out, on the reuse of a spent refresh token (the whole family), and when the user's
-- password, role or status changes (in the transaction that appends that event).
CREATE TABLE es.sessions (
    id          uuid        PRIMARY KEY,
    user_id     uuid        NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    -- The family's absolute end: refreshing never extends a session past it.
    expires_at  timestamptz NOT NULL,
    ended_at    timestamptz,
    end_reason  text,
    CHECK ((ended_at IS NULL) = (end_reason IS NULL))
);
CREATE INDEX sessions_live_by_user ON es.sessions (user_id) WHERE ended_at IS NULL;
CREATE INDEX sessions_expiry ON es.sessions (expires_at);

-- Refresh tokens, each used once: the SHA-256 of the token (256 random bits, so a plain hash is
-- as hard to reverse as the token is to guess), never the token. A spent row is kept for as
-- long as its session, so that presenting it again is recognised as reuse, not as a stranger.
CREATE TABLE es.refresh_tokens (
    token_hash  bytea       PRIMARY KEY,
    session_id  uuid        NOT NULL REFERENCES es.sessions (id) ON DELETE CASCADE,
    issued_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    spent_at    timestamptz
);
CREATE INDEX refresh_tokens_session ON es.refresh_tokens (session_id);

-- What query-api may know of a session: whether it is live, and nothing else (not whose it is,
-- not its tokens). It runs as its owner, so the reader role needs no right on the table.
CREATE FUNCTION es.session_is_live(session uuid) RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT EXISTS (
        SELECT 1 FROM es.sessions
        WHERE id = session AND ended_at IS NULL AND expires_at > clock_timestamp()
    )
$$;
REVOKE ALL ON FUNCTION es.session_is_live(uuid) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.sessions, es.refresh_tokens TO cc_writer;
        GRANT EXECUTE ON FUNCTION es.session_is_live(uuid) TO cc_writer;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_reader') THEN
        GRANT USAGE ON SCHEMA es TO cc_reader;
        GRANT EXECUTE ON FUNCTION es.session_is_live(uuid) TO cc_reader;
    END IF;
END
$$;

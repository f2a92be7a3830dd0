-- Tokens mailed to prove an address (email verification, 24 hours) or to set a new password
-- (reset, 30 minutes). The notifier draws each token when it reads the event that asks for one,
-- stores its SHA-256 here and mails the token; no event, topic or log ever holds a token, so
-- nothing outlives its purpose but a hash of 256 random bits. command-api finds the row by hash,
-- and deletes every row of the user once one is used (single use), or when the account's
-- password changes or it is deactivated. The CHECKs hold the lifetimes even against a
-- misconfigured notifier.
CREATE TABLE es.email_verification_tokens (
    token_hash  bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     uuid        NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    CHECK (expires_at > issued_at AND expires_at <= issued_at + interval '24 hours')
);
CREATE INDEX email_verification_tokens_user ON es.email_verification_tokens (user_id);
CREATE INDEX email_verification_tokens_expiry ON es.email_verification_tokens (expires_at);

CREATE TABLE es.password_reset_tokens (
    token_hash  bytea       PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id     uuid        NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at  timestamptz NOT NULL,
    CHECK (expires_at > issued_at AND expires_at <= issued_at + interval '30 minutes')
);
CREATE INDEX password_reset_tokens_user ON es.password_reset_tokens (user_id);
CREATE INDEX password_reset_tokens_expiry ON es.password_reset_tokens (expires_at);

-- The notifier's own state: which events it has handled (its dedupe: a message read twice is
-- mailed once), and where to send mail for an account (filled from `user.registered`, since
-- later requests carry only the user id).
CREATE SCHEMA notifier;

CREATE TABLE notifier.deliveries (
    event_id    uuid        PRIMARY KEY,
    event_type  text        NOT NULL,
    user_id     uuid        NOT NULL,
    -- sent | stale (older than the token it would carry) | no_recipient | dead_lettered
    outcome     text        NOT NULL,
    handled_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX deliveries_handled_at ON notifier.deliveries (handled_at);

CREATE TABLE notifier.recipients (
    user_id       uuid PRIMARY KEY,
    email         text NOT NULL,
    display_name  text NOT NULL
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, DELETE ON es.email_verification_tokens, es.password_reset_tokens TO cc_writer;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_notifier') THEN
        GRANT USAGE ON SCHEMA es TO cc_notifier;
        GRANT INSERT ON es.email_verification_tokens, es.password_reset_tokens TO cc_notifier;
        GRANT USAGE ON SCHEMA notifier TO cc_notifier;
        GRANT SELECT, INSERT, UPDATE, DELETE ON notifier.deliveries, notifier.recipients
            TO cc_notifier;
    END IF;
END
$$;

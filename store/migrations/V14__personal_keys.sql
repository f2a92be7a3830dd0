-- One data key per user, wrapped by the deployment's master key (XChaCha20-Poly1305, the user id
-- as associated data). The personal fields of the user's events (address, name) are sealed with
-- it in `es.events` and on the topics; deleting the row, which erasure does in the transaction
-- that records `user.erased`, makes every copy of them unreadable at once. The master key never
-- reaches the database: `master_key_id` is a fingerprint, so a service started with another key
-- says so instead of failing payload by payload.
CREATE TABLE es.personal_keys (
    user_id       uuid        PRIMARY KEY,
    master_key_id text        NOT NULL,
    wrapped       bytea       NOT NULL CHECK (length(wrapped) = 24 + 32 + 16),
    created_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, INSERT, DELETE ON es.personal_keys TO cc_writer;
        -- Erasure deletes the address's reservation (it may sign up again) and the password.
        GRANT DELETE ON es.email_reservations, es.user_credentials TO cc_writer;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_projector') THEN
        GRANT SELECT ON es.personal_keys TO cc_projector;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_notifier') THEN
        GRANT SELECT ON es.personal_keys TO cc_notifier;
    END IF;
END
$$;

-- Attempt counters for every throttled action (sign-in per account and client, per client, per
-- account, sign-up per client, a global budget), shared by every command-api replica. An attempt
-- is counted in the same statement that decides whether it may go ahead, so parallel guesses
-- cannot all pass a check made before any of them was recorded. Keys are normalised addresses
-- and client networks whether or not an account exists, so throttling reveals nothing about which
-- addresses are registered.
CREATE TABLE es.throttle_windows (
    bucket     text        NOT NULL,
    key        text        NOT NULL,
    hits       integer     NOT NULL,
    expires_at timestamptz NOT NULL,
    PRIMARY KEY (bucket, key)
);
CREATE INDEX throttle_windows_expiry ON es.throttle_windows (expires_at);

-- Clients (networks) that signed in to an account recently. They skip the per-account budget,
-- so that the owner's own client keeps working while someone elsewhere hammers the account.
CREATE TABLE es.trusted_clients (
    email        text        NOT NULL,
    client       text        NOT NULL,
    trusted_until timestamptz NOT NULL,
    PRIMARY KEY (email, client)
);
CREATE INDEX trusted_clients_expiry ON es.trusted_clients (trusted_until);

-- The failure counter per address alone is replaced by the windows above.
DROP TABLE es.login_failures;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.throttle_windows, es.trusted_clients TO cc_writer;
    END IF;
END
$$;

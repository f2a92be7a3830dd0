-- Failed sign-ins per email address in a sliding window, shared by every command-api replica so
-- password guessing cannot be spread across pods. Keyed by the normalised address whether or not
-- an account exists, so throttling reveals nothing about which addresses are registered.
CREATE TABLE es.login_failures (
    email        text        PRIMARY KEY,
    failures     integer     NOT NULL,
    window_start timestamptz NOT NULL
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.login_failures TO cc_writer;
    END IF;
END
$$;

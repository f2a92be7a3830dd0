-- In production the migration Job runs as the database owner and command-api connects as the
-- least-privileged role `cc_writer` (created by the PostgreSQL operator). Grant it exactly what
-- the write path needs. In development, where one superuser does everything, the role does not
-- exist and this is a no-op.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT USAGE ON SCHEMA es TO cc_writer;
        -- The log itself: read and append, never change (the trigger refuses it anyway).
        GRANT SELECT, INSERT ON es.events TO cc_writer;
        GRANT SELECT, INSERT, DELETE ON es.outbox TO cc_writer;
        GRANT SELECT, INSERT ON es.email_reservations, es.sku_reservations TO cc_writer;
        GRANT SELECT, INSERT, UPDATE ON es.user_credentials TO cc_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.idempotency_keys TO cc_writer;
    END IF;
END
$$;

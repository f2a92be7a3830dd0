-- Every right the write-side migrations grant the service roles, as the schema stands after the
-- newest of them, in one idempotent script (granting a right already held changes nothing).
-- The migrations grant only to roles that exist when they run; a role created later (by
-- `command-api migrate` provisioning it on a managed database, or by an operator) would have no
-- rights at all, so `command-api migrate` runs this after the migrations, every time.
--
-- Keep it in step with the migrations: a migration that grants a right adds the same line here.
-- `command-api/tests/api/roles` fails when a role created after the migrations ends up with other
-- rights than one that existed before them.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT USAGE ON SCHEMA es TO cc_writer;
        -- V2
        GRANT SELECT, INSERT ON es.events TO cc_writer;
        GRANT SELECT, INSERT, DELETE ON es.outbox TO cc_writer;
        GRANT SELECT, INSERT ON es.email_reservations, es.sku_reservations TO cc_writer;
        GRANT SELECT, INSERT, UPDATE ON es.user_credentials TO cc_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.idempotency_keys TO cc_writer;
        -- V4, V5, V6, V8 (V3's table is gone since V8)
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.snapshots TO cc_writer;
        GRANT SELECT, INSERT, DELETE ON es.active_admins TO cc_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.published_offsets TO cc_writer;
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.throttle_windows, es.trusted_clients TO cc_writer;
        -- V10
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.sessions, es.refresh_tokens TO cc_writer;
        GRANT EXECUTE ON FUNCTION es.session_is_live(uuid) TO cc_writer;
        -- V12
        GRANT SELECT, DELETE ON es.email_verification_tokens, es.password_reset_tokens TO cc_writer;
        -- V14
        GRANT SELECT, INSERT, DELETE ON es.personal_keys TO cc_writer;
        GRANT DELETE ON es.email_reservations, es.user_credentials TO cc_writer;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_projector') THEN
        -- V7, V9
        GRANT USAGE ON SCHEMA es TO cc_projector;
        GRANT EXECUTE ON FUNCTION es.latest_event(text) TO cc_projector;
        GRANT EXECUTE ON FUNCTION es.events_after(text, bigint, integer) TO cc_projector;
        EXECUTE format('GRANT CREATE ON DATABASE %I TO cc_projector', current_database());
        -- V14
        GRANT SELECT ON es.personal_keys TO cc_projector;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_reader') THEN
        -- V10, V11
        GRANT USAGE ON SCHEMA es TO cc_reader;
        GRANT EXECUTE ON FUNCTION es.session_is_live(uuid) TO cc_reader;
        GRANT EXECUTE ON FUNCTION es.version_never_written(uuid, bigint, uuid) TO cc_reader;
    END IF;
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_notifier') THEN
        -- V12, V13 (V12's INSERT on the token tables is gone since V13)
        GRANT USAGE ON SCHEMA es TO cc_notifier;
        GRANT EXECUTE ON FUNCTION es.issue_mailed_token(uuid, uuid, bytea) TO cc_notifier;
        GRANT USAGE ON SCHEMA notifier TO cc_notifier;
        GRANT SELECT, INSERT, UPDATE, DELETE ON notifier.deliveries, notifier.recipients
            TO cc_notifier;
        -- V14
        GRANT SELECT ON es.personal_keys TO cc_notifier;
    END IF;
END
$$;

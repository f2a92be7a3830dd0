-- Snapshots of long streams: an aggregate's folded state at a version, so a command folds only
-- the events after it. A cache and nothing more: `es.events` stays the only truth, a snapshot is
-- trusted only by the build that wrote it (`domain::SNAPSHOT_KEY`), and deleting any or all rows
-- is always safe (the next commands fold the whole stream and write them again).
CREATE TABLE es.snapshots (
    stream_id    uuid        PRIMARY KEY,
    stream_type  text        NOT NULL,
    version      bigint      NOT NULL CHECK (version > 0),
    snapshot_key text        NOT NULL,
    state        jsonb       NOT NULL,
    taken_at     timestamptz NOT NULL DEFAULT clock_timestamp()
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.snapshots TO cc_writer;
    END IF;
END
$$;

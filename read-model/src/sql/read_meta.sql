-- The read side's catalog of schema versions and the pointer the query API follows.
--
-- Every statement is idempotent: the projector runs this at each start-up, under an advisory
-- lock, so several replicas starting at once (or a rebuild starting next to them) agree.

CREATE SCHEMA IF NOT EXISTS read_meta;

-- The one schema the query API reads: `SELECT schema FROM read_meta.active`. A rebuild flips it
-- with a single UPDATE, so a reader sees the old schema or the new one, never a mixture.
CREATE TABLE IF NOT EXISTS read_meta.active (
    singleton    boolean     PRIMARY KEY DEFAULT true CHECK (singleton),
    schema       text        NOT NULL,
    activated_at timestamptz NOT NULL DEFAULT now()
);

-- Every read schema ever built: the live one, a rebuild in progress, a verify shadow, and the
-- retired ones waiting for their grace period to end before they are dropped.
CREATE TABLE IF NOT EXISTS read_meta.schemas (
    schema       text        PRIMARY KEY,
    generation   integer     NOT NULL UNIQUE,
    state        text        NOT NULL CHECK (state IN ('building', 'active', 'retired', 'shadow')),
    created_at   timestamptz NOT NULL DEFAULT now(),
    activated_at timestamptz,
    retired_at   timestamptz
);

-- The query API's read-only role, when the cluster has one (production creates it; a laptop
-- usually does not). Only the meta schema here; each read schema grants its own tables.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_reader') THEN
        GRANT USAGE ON SCHEMA read_meta TO cc_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA read_meta TO cc_reader;
    END IF;
END
$$;

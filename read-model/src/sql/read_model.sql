-- One version of the read model. `{schema}` is replaced by the schema's name (read_v1, read_v2,
-- ... or a verify shadow), which is what lets a rebuild fill a new version side by side with the
-- live one. Idempotent: applied at every start-up under an advisory lock.
--
-- Timestamps are event times (CloudEvents `time`), never the time of projection, so replaying
-- the same events always yields the same rows.

CREATE SCHEMA IF NOT EXISTS {schema};

-- One denormalised row per product, for listings and product pages.
CREATE TABLE IF NOT EXISTS {schema}.products (
    id          uuid        PRIMARY KEY,
    seller_id   uuid        NOT NULL,
    sku         text        NOT NULL,
    name        text        NOT NULL,
    description text        NOT NULL,
    category    text        NOT NULL,
    price_minor bigint      NOT NULL,
    currency    text        NOT NULL,
    stock       bigint      NOT NULL,
    status      text        NOT NULL CHECK (status IN ('draft', 'published', 'archived')),
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    -- Stream version of the last event folded into this row.
    version     bigint      NOT NULL,
    -- Full-text search: name (weight A), category (B), description (C). The query side makes
    -- its lexemes with the same configuration, to_tsvector('english', word). Hyphens in
    -- category slugs become spaces so "kitchen-dining" matches "kitchen".
    search      tsvector    GENERATED ALWAYS AS (
        setweight(to_tsvector('english'::regconfig, name), 'A') ||
        setweight(to_tsvector('english'::regconfig, replace(category, '-', ' ')), 'B') ||
        setweight(to_tsvector('english'::regconfig, description), 'C')
    ) STORED
);

CREATE INDEX IF NOT EXISTS products_search_idx ON {schema}.products USING gin (search);
-- Keyset pagination: every listing orders by its sort key and then id, in one direction, so
-- `(key, id) < ($1, $2)` (or `>`) walks the index. Backward scans serve the other direction.
CREATE INDEX IF NOT EXISTS products_status_created_idx
    ON {schema}.products (status, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS products_status_price_idx
    ON {schema}.products (status, price_minor, id);
CREATE INDEX IF NOT EXISTS products_status_name_idx
    ON {schema}.products (status, name, id);
CREATE INDEX IF NOT EXISTS products_status_category_created_idx
    ON {schema}.products (status, category, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS products_status_category_price_idx
    ON {schema}.products (status, category, price_minor, id);
CREATE INDEX IF NOT EXISTS products_seller_idx
    ON {schema}.products (seller_id, created_at DESC, id DESC);

-- Relevance search without ranking every match. One row per word of every published product:
-- the word as `products.search` holds it (its lexeme) and how strongly the product matches it,
-- its impact: 4 in the name, 2 in the category, 1 in the description, added up. Read in index
-- order, the strongest matches of a word come first, so a page of a word found in a million
-- products costs as much as a page of a rare one. Written by the projector with the product
-- (`index_search`/`unindex_search` in the same transaction), so it is a read model like the
-- others: rebuilt from the events, compared by `projector verify`.
CREATE TABLE IF NOT EXISTS {schema}.search_postings (
    term       text     COLLATE "C" NOT NULL,
    impact     smallint NOT NULL,
    product_id uuid     NOT NULL,
    PRIMARY KEY (term, impact, product_id)
);
-- The query API picks the rarest word of a search from the planner's most common values of
-- `term`: a thousand of them (the default keeps a hundred) cover a real catalog's common words.
ALTER TABLE {schema}.search_postings ALTER COLUMN term SET STATISTICS 1000;

-- The impact of one lexeme of `products.search`, from the weights of its positions. The query
-- API ranks filtered searches with the same function, so both orders agree.
CREATE OR REPLACE FUNCTION {schema}.search_impact(weights text[]) RETURNS smallint
    LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT ((CASE WHEN 'A' = ANY(weights) THEN 4 ELSE 0 END)
          + (CASE WHEN 'B' = ANY(weights) THEN 2 ELSE 0 END)
          + (CASE WHEN 'C' = ANY(weights) OR 'D' = ANY(weights) THEN 1 ELSE 0 END))::smallint
$$;

-- Postings of the products `ids` as their rows are now; only published products have any.
-- Sorted, so a bulk build appends to the index in order. (No "every product when NULL": the
-- function's one plan would then scan every product for a batch of ten.)
CREATE OR REPLACE FUNCTION {schema}.index_search(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    INSERT INTO {schema}.search_postings (term, impact, product_id)
    SELECT u.lexeme, {schema}.search_impact(u.weights), p.id
    FROM {schema}.products p, unnest(p.search) AS u
    WHERE p.status = 'published' AND p.id = ANY(ids)
    ORDER BY 1, 2, 3
    ON CONFLICT DO NOTHING
$$;

-- Removes the postings `index_search` wrote for the rows of `ids` as they are now: called
-- before the rows change, each key found through the primary key (a word such as "catalog"
-- has a million postings; scanning them for one product would not do).
CREATE OR REPLACE FUNCTION {schema}.unindex_search(ids uuid[]) RETURNS void LANGUAGE sql AS $$
    DELETE FROM {schema}.search_postings sp
    USING {schema}.products p, unnest(p.search) AS u
    WHERE p.id = ANY(ids) AND p.status = 'published'
      AND sp.term = u.lexeme AND sp.impact = {schema}.search_impact(u.weights)
      AND sp.product_id = p.id
$$;
REVOKE ALL ON FUNCTION {schema}.index_search(uuid[]) FROM PUBLIC;
REVOKE ALL ON FUNCTION {schema}.unindex_search(uuid[]) FROM PUBLIC;

-- Read schemas built before the postings existed (and catalogs loaded in bulk) get them here,
-- once: an empty table beside published products means they were never written.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM {schema}.search_postings)
       AND EXISTS (SELECT 1 FROM {schema}.products WHERE status = 'published') THEN
        PERFORM {schema}.index_search(
            ARRAY(SELECT id FROM {schema}.products WHERE status = 'published'));
    END IF;
END
$$;

-- Published products per category, kept in step with publish, unpublish, archive and category
-- changes. Exactly the categories with at least one published product: a row whose count falls
-- to zero is deleted, so the table does not depend on how events were split into batches.
CREATE TABLE IF NOT EXISTS {schema}.categories (
    slug            text   PRIMARY KEY,
    published_count bigint NOT NULL
);

-- Accounts, without anything secret (events carry none). `email` and `display_name` are NULL
-- once the user's personal data was erased (and for no other reason).
CREATE TABLE IF NOT EXISTS {schema}.users (
    id           uuid        PRIMARY KEY,
    email        text,
    display_name text,
    role         text        NOT NULL CHECK (role IN ('customer', 'seller', 'admin')),
    active       boolean     NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL,
    version      bigint      NOT NULL,
    email_verified boolean   NOT NULL DEFAULT false
);
-- Read schemas built before `user.email_verified` existed get the column here: false is what
-- every one of their rows says, since no such event had been recorded then.
ALTER TABLE {schema}.users ADD COLUMN IF NOT EXISTS email_verified boolean NOT NULL DEFAULT false;
-- Read schemas built before erasure existed held every address and name.
ALTER TABLE {schema}.users ALTER COLUMN email DROP NOT NULL, ALTER COLUMN display_name DROP NOT NULL;

-- Not unique: the write side guarantees uniqueness, and a read model must never refuse an event.
CREATE INDEX IF NOT EXISTS users_email_idx ON {schema}.users (email);

-- Every event of every stream, so audits never touch the write database. Unknown event types
-- are recorded here too: the audit trail is complete even when the projection is not.
CREATE TABLE IF NOT EXISTS {schema}.audit_events (
    stream_id      uuid        NOT NULL,
    version        bigint      NOT NULL,
    stream_type    text        NOT NULL,
    event_id       uuid        NOT NULL,
    event_type     text        NOT NULL,
    schema_version integer     NOT NULL,
    payload        jsonb       NOT NULL,
    actor          text,
    correlation_id uuid,
    causation_id   uuid,
    recorded_at    timestamptz NOT NULL,
    PRIMARY KEY (stream_id, version)
);

-- Highest version applied per stream: the idempotency key of the projection, and what a
-- read-your-writes token is compared with.
CREATE TABLE IF NOT EXISTS {schema}.stream_versions (
    stream_id     uuid        PRIMARY KEY,
    stream_type   text        NOT NULL,
    version       bigint      NOT NULL,
    last_event_at timestamptz NOT NULL
);

-- The consumer position, written in the same transaction as the rows: the next offset to read
-- per topic partition. Kafka's committed offsets are only a copy for lag-based autoscaling.
CREATE TABLE IF NOT EXISTS {schema}.checkpoints (
    topic         text        NOT NULL,
    partition     integer     NOT NULL,
    next_offset   bigint      NOT NULL,
    -- The event id of the message at next_offset - 1: a restart checks it is still there, so a
    -- recreated topic (a wiped broker, Kafka rebuilt from the event store) is noticed and read
    -- again from its first offset instead of from a stale number.
    last_event_id uuid,
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (topic, partition)
);
-- Schemas created before last_event_id existed.
ALTER TABLE {schema}.checkpoints ADD COLUMN IF NOT EXISTS last_event_id uuid;

-- How far the projection is behind its sources, sampled every few seconds by each projector
-- replica (they all see the same sources, so the last writer wins): the Kafka messages between
-- the checkpoints and the high watermarks, and how long the projection has not been caught up
-- with the newest event in the event store. A reader judges freshness from it; a row that stops
-- changing means no projector is watching at all.
CREATE TABLE IF NOT EXISTS {schema}.projection_status (
    singleton        boolean          PRIMARY KEY DEFAULT true CHECK (singleton),
    lag_seconds      double precision NOT NULL,
    lag_messages     bigint           NOT NULL,
    detail           jsonb            NOT NULL,
    sampled_at       timestamptz      NOT NULL
);

-- The query API's read-only role reads every table of this schema, including the ones a later
-- release adds (default privileges cover tables this role creates from now on).
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_reader') THEN
        GRANT USAGE ON SCHEMA {schema} TO cc_reader;
        GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO cc_reader;
        ALTER DEFAULT PRIVILEGES IN SCHEMA {schema} GRANT SELECT ON TABLES TO cc_reader;
    END IF;
END
$$;

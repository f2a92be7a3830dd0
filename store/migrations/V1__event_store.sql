-- Write side of CloudCommerce: the event store, its outbox, the uniqueness reservations, the
-- credentials and the idempotency keys. Everything here is written in the same transaction as
-- the events it belongs to.

CREATE SCHEMA IF NOT EXISTS es;

-- Append-only log of every event. `position` is global and only grows; (stream_id,
-- stream_version) is unique, which is what makes optimistic concurrency work: two writers that
-- loaded the same version collide on this key and exactly one commits.
CREATE TABLE es.events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id        uuid        NOT NULL UNIQUE,
    stream_id       uuid        NOT NULL,
    stream_type     text        NOT NULL,
    stream_version  bigint      NOT NULL CHECK (stream_version > 0),
    event_type      text        NOT NULL,
    schema_version  integer     NOT NULL CHECK (schema_version > 0),
    payload         jsonb       NOT NULL,
    correlation_id  uuid        NOT NULL,
    causation_id    uuid,
    actor           text        NOT NULL,
    traceparent     text,
    recorded_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    CONSTRAINT events_stream_version_key UNIQUE (stream_id, stream_version)
);

CREATE INDEX events_stream_type_position_idx ON es.events (stream_type, position);

-- History is never rewritten: refuse UPDATE, DELETE and TRUNCATE on the log itself.
CREATE FUNCTION es.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'es.events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER events_append_only
    BEFORE UPDATE OR DELETE ON es.events
    FOR EACH ROW EXECUTE FUNCTION es.refuse_event_change();

CREATE TRIGGER events_no_truncate
    BEFORE TRUNCATE ON es.events
    FOR EACH STATEMENT EXECUTE FUNCTION es.refuse_event_change();

-- Transactional outbox: one row per event not yet acknowledged by Kafka. The relay deletes a
-- row only after the broker acknowledged the event, so a crash in between re-sends it.
CREATE TABLE es.outbox (
    position    bigint PRIMARY KEY REFERENCES es.events (position),
    enqueued_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One account per email address, enforced by the primary key inside the sign-up transaction.
CREATE TABLE es.email_reservations (
    email       text PRIMARY KEY,
    user_id     uuid NOT NULL UNIQUE,
    reserved_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- One product per SKU. Archived products keep theirs, so an SKU always names one history.
CREATE TABLE es.sku_reservations (
    sku         text PRIMARY KEY,
    product_id  uuid NOT NULL UNIQUE,
    reserved_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Password hashes live here and nowhere else: never in an event, a topic or a log line.
CREATE TABLE es.user_credentials (
    user_id       uuid PRIMARY KEY,
    password_hash text NOT NULL,
    updated_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Idempotency-Key records: the first response to a key is kept and replayed for 24 hours.
CREATE TABLE es.idempotency_keys (
    scope          text        NOT NULL,
    key            text        NOT NULL,
    request_hash   bytea       NOT NULL,
    status_code    smallint    NOT NULL,
    headers        jsonb       NOT NULL,
    body           bytea       NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (scope, key)
);

CREATE INDEX idempotency_keys_created_at_idx ON es.idempotency_keys (created_at);

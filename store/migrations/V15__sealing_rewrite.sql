-- The one sanctioned rewrite of `es.events`: bringing events recorded before personal fields
-- were sealed (V14) to the sealed form, by `command-api seal-personal-data`. Everything else
-- stays refused, the owner included: the trigger lets an UPDATE through only inside a
-- transaction that declared the rewrite (`SET LOCAL cc.sealing_personal_data = 'on'`), only
-- for `user.registered` or `user.display_name_changed` going from v1 to v2, with every other
-- column unchanged and the payload changed in exactly one way: `email` and `display_name`
-- gone, and either a `personal` field (sealed with the user's key) or none (a user erased
-- before the rewrite, whose fields are dropped). Service roles have no UPDATE right at all.
CREATE OR REPLACE FUNCTION es.refuse_event_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE'
       AND current_setting('cc.sealing_personal_data', true) = 'on'
       AND OLD.event_type IN ('user.registered', 'user.display_name_changed')
       AND OLD.schema_version = 1 AND NEW.schema_version = 2
       AND (NEW.position, NEW.event_id, NEW.stream_id, NEW.stream_type, NEW.stream_version,
            NEW.event_type, NEW.correlation_id, NEW.causation_id, NEW.actor, NEW.traceparent,
            NEW.recorded_at)
           IS NOT DISTINCT FROM
           (OLD.position, OLD.event_id, OLD.stream_id, OLD.stream_type, OLD.stream_version,
            OLD.event_type, OLD.correlation_id, OLD.causation_id, OLD.actor, OLD.traceparent,
            OLD.recorded_at)
       AND NEW.payload - 'personal' = OLD.payload - 'email' - 'display_name'
       AND NOT (NEW.payload ? 'email' OR NEW.payload ? 'display_name')
       AND (NOT NEW.payload ? 'personal' OR jsonb_typeof(NEW.payload -> 'personal') = 'string')
    THEN
        RETURN NEW;
    END IF;
    RAISE EXCEPTION 'es.events is append-only (% refused)', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$;

-- Who sealed how much, and when: the audit trail of the rewrite itself.
CREATE TABLE es.personal_data_sealings (
    id              bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at      timestamptz NOT NULL DEFAULT clock_timestamp(),
    finished_at     timestamptz,
    database_role   text        NOT NULL DEFAULT current_user,
    operator        text        NOT NULL,
    master_key_id   text        NOT NULL,
    events_sealed   bigint      NOT NULL DEFAULT 0,
    events_stripped bigint      NOT NULL DEFAULT 0,
    snapshots_dropped bigint    NOT NULL DEFAULT 0
);

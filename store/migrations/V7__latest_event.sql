-- The newest recorded event of a stream type, for the read side's freshness check ("is the
-- newest event in the store projected yet?"). A function rather than a grant on es.events: the
-- projector's role learns three columns of one row, never a payload.
CREATE FUNCTION es.latest_event(p_stream_type text)
RETURNS TABLE (stream_id uuid, stream_version bigint, recorded_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.stream_id, e.stream_version, e.recorded_at
    FROM es.events e
    WHERE e.stream_type = p_stream_type
    ORDER BY e.position DESC
    LIMIT 1
$$;

REVOKE ALL ON FUNCTION es.latest_event(text) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_projector') THEN
        GRANT USAGE ON SCHEMA es TO cc_projector;
        GRANT EXECUTE ON FUNCTION es.latest_event(text) TO cc_projector;
    END IF;
END
$$;

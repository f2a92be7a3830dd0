-- Where the event store stands, for the read side's freshness check: the newest recorded event
-- of a stream type, and the events recorded after a position (stream, version, time), so the
-- projector can find the oldest event it has not applied yet. Functions rather than a grant on
-- es.events: the projector's role learns positions, stream ids, versions and times, never a
-- payload.
CREATE FUNCTION es.latest_event(p_stream_type text)
RETURNS TABLE (event_position bigint, stream_id uuid, stream_version bigint, recorded_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.position, e.stream_id, e.stream_version, e.recorded_at
    FROM es.events e
    WHERE e.stream_type = p_stream_type
    ORDER BY e.position DESC
    LIMIT 1
$$;

-- At most p_limit events of a stream type after p_position, oldest first (the index on
-- (stream_type, position) serves it).
CREATE FUNCTION es.events_after(p_stream_type text, p_position bigint, p_limit integer)
RETURNS TABLE (event_position bigint, stream_id uuid, stream_version bigint, recorded_at timestamptz)
LANGUAGE sql STABLE SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
    SELECT e.position, e.stream_id, e.stream_version, e.recorded_at
    FROM es.events e
    WHERE e.stream_type = p_stream_type AND e.position > p_position
    ORDER BY e.position
    LIMIT least(p_limit, 10000)
$$;

REVOKE ALL ON FUNCTION es.latest_event(text) FROM PUBLIC;
REVOKE ALL ON FUNCTION es.events_after(text, bigint, integer) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_projector') THEN
        GRANT USAGE ON SCHEMA es TO cc_projector;
        GRANT EXECUTE ON FUNCTION es.latest_event(text) TO cc_projector;
        GRANT EXECUTE ON FUNCTION es.events_after(text, bigint, integer) TO cc_projector;
    END IF;
END
$$;

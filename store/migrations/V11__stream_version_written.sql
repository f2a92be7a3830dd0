-- What query-api may know of the event store to answer a Consistency-Token at once when no wait
-- can help: that the token's version was never written. It says so only where that tells the
-- caller nothing new: a stream that does not exist, a product (whose versions its ETag shows),
-- or the caller's own account. Of anyone else's account it says nothing (false), so that
-- token waits like a pending one and gets the same 503: how many changes an account has had is
-- not for others to count. It runs as its owner; the reader role needs no right on es.events.
CREATE FUNCTION es.version_never_written(stream uuid, wanted bigint, caller uuid)
    RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
    SELECT NOT EXISTS (
               SELECT 1 FROM es.events WHERE stream_id = stream AND stream_version = wanted
           )
       AND (coalesce(stream = caller, false)
            OR NOT EXISTS (
                SELECT 1 FROM es.events
                WHERE stream_id = stream AND stream_version = 1 AND stream_type <> 'product'
            ))
$$;
REVOKE ALL ON FUNCTION es.version_never_written(uuid, bigint, uuid) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_reader') THEN
        GRANT EXECUTE ON FUNCTION es.version_never_written(uuid, bigint, uuid) TO cc_reader;
    END IF;
END
$$;

-- The notifier issues a mailed token only for a request that the store recorded, and only one
-- that works per request. Under V12 it could insert a token hash for any user id, so whoever
-- held its database password could mint a reset token for any account; now it calls
-- es.issue_mailed_token with the id of the event that asked for the mail, and the function takes
-- the table and the lifetime from that event and refuses any other account than its own.
--
-- One token per request: a notifier that retries a mail (the relay was down, it crashed before
-- recording the delivery) draws a new token, and the new hash replaces the earlier one, so at
-- most the latest mail of a request carries a token that works.
--
-- Rollout: a notifier of the release before keeps failing its inserts (INSERT is revoked here)
-- and retries with backoff until the new one takes over; mail is late by that long, not lost.
ALTER TABLE es.email_verification_tokens ADD COLUMN request_event uuid UNIQUE;
ALTER TABLE es.password_reset_tokens ADD COLUMN request_event uuid UNIQUE;

-- Raises no_data_found when no user event has the id, invalid_parameter_value when the event
-- is another account's or asks for no token, object_not_in_prerequisite_state when the request
-- is older than the token would live.
CREATE FUNCTION es.issue_mailed_token(request uuid, account uuid, token_hash bytea)
    RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    requested record;
    life interval;
    resets boolean;
    issued timestamptz := clock_timestamp();
BEGIN
    SELECT stream_id, event_type, recorded_at INTO requested
    FROM es.events WHERE event_id = request AND stream_type = 'user';
    IF NOT FOUND THEN
        RAISE EXCEPTION 'no user event % was recorded', request USING ERRCODE = 'no_data_found';
    END IF;
    IF requested.stream_id <> account THEN
        RAISE EXCEPTION 'the event % is another account''s', request
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    resets := requested.event_type = 'user.password_reset_requested';
    IF resets THEN
        life := interval '30 minutes';
    ELSIF requested.event_type IN ('user.registered', 'user.email_verification_requested') THEN
        life := interval '24 hours';
    ELSE
        RAISE EXCEPTION 'a % event asks for no mailed token', requested.event_type
            USING ERRCODE = 'invalid_parameter_value';
    END IF;
    IF requested.recorded_at < issued - life THEN
        RAISE EXCEPTION 'the request % is older than its token would live', request
            USING ERRCODE = 'object_not_in_prerequisite_state';
    END IF;
    IF resets THEN
        INSERT INTO es.password_reset_tokens
            (token_hash, user_id, issued_at, expires_at, request_event)
        VALUES (issue_mailed_token.token_hash, requested.stream_id, issued, issued + life, request)
        ON CONFLICT (request_event) DO UPDATE
        SET token_hash = EXCLUDED.token_hash, issued_at = EXCLUDED.issued_at,
            expires_at = EXCLUDED.expires_at;
    ELSE
        INSERT INTO es.email_verification_tokens
            (token_hash, user_id, issued_at, expires_at, request_event)
        VALUES (issue_mailed_token.token_hash, requested.stream_id, issued, issued + life, request)
        ON CONFLICT (request_event) DO UPDATE
        SET token_hash = EXCLUDED.token_hash, issued_at = EXCLUDED.issued_at,
            expires_at = EXCLUDED.expires_at;
    END IF;
END;
$$;
REVOKE ALL ON FUNCTION es.issue_mailed_token(uuid, uuid, bytea) FROM PUBLIC;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_notifier') THEN
        REVOKE INSERT ON es.email_verification_tokens, es.password_reset_tokens FROM cc_notifier;
        GRANT EXECUTE ON FUNCTION es.issue_mailed_token(uuid, uuid, bytea) TO cc_notifier;
    END IF;
END
$$;

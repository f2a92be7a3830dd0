-- The active admins (role admin and not deactivated), written in the same transaction as the
-- events that change them, so the write side can refuse the change that would leave nobody
-- able to administer the system (the last active admin demoting or deactivating themselves).
CREATE TABLE es.active_admins (
    user_id    uuid        PRIMARY KEY,
    granted_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- Existing stores: every user whose latest role is admin and who was never deactivated.
INSERT INTO es.active_admins (user_id)
SELECT latest.stream_id
FROM (
    SELECT DISTINCT ON (stream_id) stream_id, payload->>'role' AS role
    FROM es.events
    WHERE stream_type = 'user' AND event_type IN ('user.registered', 'user.role_assigned')
    ORDER BY stream_id, stream_version DESC
) AS latest
WHERE latest.role = 'admin'
  AND NOT EXISTS (
      SELECT 1 FROM es.events d
      WHERE d.stream_id = latest.stream_id AND d.event_type = 'user.deactivated'
  );

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, INSERT, DELETE ON es.active_admins TO cc_writer;
    END IF;
END
$$;

-- Where the relay's last acknowledged message of each topic partition landed: the offset after
-- it. A broker that acknowledges a later event at a lower offset, or reports an empty partition
-- where we published before, has lost the log (a wiped development broker, a deleted and
-- recreated topic, an unclean leader election), and the relay re-publishes the topic's history
-- from the event store. Written in the transaction that removes the events from the outbox.
CREATE TABLE es.published_offsets (
    topic       text        NOT NULL,
    partition   integer     NOT NULL,
    next_offset bigint      NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    PRIMARY KEY (topic, partition)
);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_writer') THEN
        GRANT SELECT, INSERT, UPDATE, DELETE ON es.published_offsets TO cc_writer;
    END IF;
END
$$;

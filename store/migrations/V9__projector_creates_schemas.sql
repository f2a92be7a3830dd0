-- The projector creates the read-model schemas it owns (read_meta, read_v<n>, and the shadow
-- schemas of a rebuild or verify), which takes CREATE on the database. Owning them, it can touch
-- nothing else: it has no rights in `es` beyond the two functions V7 grants. Run by the database
-- owner (the migration Job), which may grant this.
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'cc_projector') THEN
        EXECUTE format('GRANT CREATE ON DATABASE %I TO cc_projector', current_database());
    END IF;
END
$$;

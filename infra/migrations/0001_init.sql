-- 0001: application settings, a small key/value table for runtime-tunable
-- settings the components share (feature flags, limits, ...).
-- Plain SQL: run by `spinstack migrate` and by `psql -f` alike (see README.md).

CREATE TABLE app_settings (
    key text PRIMARY KEY,
    value jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- 0005: the events outbox (components/events serves it as server-sent
-- events at GET /api/events; README.md, "Realtime (server-sent events)").
--
-- Each event is written by the statement that makes the change it reports
-- (components/shared/src/events.rs), so it exists exactly when the change
-- was committed. `id` is one sequence for everyone: a user's events are that
-- user's rows in `id` order, and the last id a client saw is its cursor.
-- Writers of one user's events take a transaction-scoped advisory lock on
-- that user before drawing an id, so a user's ids are committed in order: a
-- reader that sees id n of a user has seen every smaller id of theirs.
--
-- Retention: `events_retention_seconds` (24 h). The events component deletes
-- older rows now and then and records the largest id it deleted in
-- `events_swept`, so a cursor from before that point is answered with a
-- `resync` event instead of a silent gap.

CREATE TABLE events (
    id bigserial PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    type text NOT NULL
        CHECK (type IN ('upload.ready', 'upload.deleted', 'user.updated', 'session.revoked')),
    occurred_at timestamptz NOT NULL DEFAULT now(),
    data jsonb NOT NULL DEFAULT '{}'
);

-- A user's events after a cursor, in order.
CREATE INDEX events_user_id_id ON events (user_id, id);
-- The retention sweep.
CREATE INDEX events_occurred_at ON events (occurred_at);

-- One row: every event with an id at or below `up_to` may have been deleted.
CREATE TABLE events_swept (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    up_to bigint NOT NULL DEFAULT 0
);
INSERT INTO events_swept DEFAULT VALUES;

-- 0003: uploaded files (components/uploads).
--
-- The bytes live in the S3-compatible store under `object_key`, which the
-- server chooses (never derived from the filename); this table is the
-- index of who owns what. `filename` is the client's name, sanitised, used
-- only for Content-Disposition on download.
--
-- Life of a record:
--   pending  -- created before any byte reaches the store (direct upload in
--               flight, or a presigned PUT not yet completed): the object
--               may or may not exist yet;
--   ready    -- the object exists and matched `size` and `content_type`;
--   deleting -- a delete started: hidden from every read; the object is
--               removed next, then the record. A delete that failed half-way
--               is finished by the next attempt (or the owner's deletion).
-- So an object never exists without its record, and a visible `ready`
-- record always has its object.

CREATE TABLE uploads (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    object_key text NOT NULL,
    filename text NOT NULL,
    content_type text NOT NULL,
    -- Bytes: declared (presigned, pending) or stored (ready).
    size bigint NOT NULL CHECK (size >= 0),
    status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'ready', 'deleting')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT uploads_object_key_key UNIQUE (object_key)
);

-- A user's uploads, newest first, keyset-paginated on (created_at, id);
-- also the lookup of a user's objects when the user is deleted.
CREATE INDEX uploads_user_id_created_at_id ON uploads (user_id, created_at, id);

-- 0009: the uploads not `ready` (components/uploads/src/sweep.rs).
--
-- A `pending` upload older than the presigned URL's lifetime and a margin
-- (a presigned PUT never completed, a direct upload that failed while the
-- store was unreachable) is stale: reads hide it, and after a successful
-- uploads request the component removes the oldest few, object first,
-- then record. It also finishes `deleting` records left behind for a
-- while (a delete that failed half-way). This index holds only those
-- uploads, oldest first, so finding the batch stays cheap however many
-- `ready` uploads there are.

CREATE INDEX uploads_unfinished ON uploads (created_at) WHERE status <> 'ready';

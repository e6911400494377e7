-- 0008: password reset requests are taken as they come and matched to an
-- account later (components/auth/src/password_reset.rs).
--
-- A request for a registered address used to write its token and mail in
-- the request's own statement, and one for an unknown address wrote
-- nothing: the first commit waited for a WAL flush the second did not, so
-- the 202 came about twice as slowly for a registered address
-- (benches/accounts.sh: p50 1.10 ms against 0.51 ms), which tells who is
-- registered. Now every request writes one row here, the same row for any
-- address; after the response (and in every later sweep) the rows are
-- claimed, matched to active accounts, and turned into a token and a mail,
-- and the unmatched ones are simply deleted. The row holds the composed mail
-- (its link carries the token, as mail_outbox rows do until sent) and the
-- token's SHA-256; the token's lifetime counts from the request.
CREATE TABLE password_reset_requests (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    token_hash bytea NOT NULL,
    ttl_seconds bigint NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX password_reset_requests_created_at ON password_reset_requests (created_at);

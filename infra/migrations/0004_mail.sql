-- 0004: mail that is never lost, and the single-use tokens it carries
-- (components/auth: password reset, email verification).
--
-- A message is written to mail_outbox in the same statement as the action
-- that causes it, so the action and its mail commit or fail together.
-- Delivery happens after the commit: right after the response, then by the
-- sweep, which claims due rows with FOR UPDATE SKIP LOCKED and pushes their
-- next_attempt_at forward (exponential backoff, which is also the claim's
-- lease), so two replicas never send one row. last_error is a short reason
-- (an HTTP status, a transport error kind), never the body or a token.

CREATE TABLE mail_outbox (
    id uuid PRIMARY KEY,
    recipient text NOT NULL,
    subject text NOT NULL,
    text_body text NOT NULL,
    html_body text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    sent_at timestamptz,
    last_error text CHECK (length(last_error) <= 200)
);

-- The sweep's question: unsent rows, earliest due first.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL;

-- Tokens mailed as links: 256 random bits, stored only as their SHA-256,
-- single use (used_at), for one purpose and, for verification, the address
-- they were sent to.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose text NOT NULL CHECK (purpose IN ('password_reset', 'verify_email')),
    email text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

CREATE INDEX account_tokens_user_id ON account_tokens (user_id);

-- Set when the user follows their verification link (or a reset link, which
-- proves the same thing). Existing accounts start unverified.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

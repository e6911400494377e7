-- 0006: TOTP two-factor sign-in (RFC 6238; components/auth, README.md
-- "Accounts: two-factor sign-in").
--
-- totp_factors: at most one per user. secret_sealed is the shared secret
-- sealed with AES-256-GCM (nonce || ciphertext; the key is a variable, never
-- in the database), so a copy of the database alone cannot mint codes.
-- confirmed_at is NULL while an enrolment waits for its first code; only a
-- confirmed factor is asked for at login. last_used_step is the last 30 s
-- step a code was accepted for: a code is accepted only for a later step, so
-- none is accepted twice (the update that records it is the check).
-- failures/failures_since count wrong codes in a window, for the per-account
-- limit that sits behind the gateway's per-address one.
-- The totp_enabled column of the user record (components/shared/src/users.rs)
-- names the user's id bare inside a subquery on totp_factors: keep this table
-- free of an `id` column.
CREATE TABLE totp_factors (
    user_id uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    secret_sealed bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    confirmed_at timestamptz,
    last_used_step bigint NOT NULL DEFAULT 0,
    failures integer NOT NULL DEFAULT 0,
    failures_since timestamptz NOT NULL DEFAULT now()
);

-- Single-use recovery codes, shown once at confirmation, stored as SHA-256
-- (50 random bits each, behind the per-account limit: a fast hash is enough).
CREATE TABLE totp_recovery_codes (
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    code_hash bytea NOT NULL,
    used_at timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- A login whose password was right, waiting for its second factor: an
-- opaque token (stored as SHA-256) that POST /api/auth/login/totp exchanges,
-- once, for the session's tokens.
CREATE TABLE login_challenges (
    challenge_hash bytea PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    use_cookie boolean NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at timestamptz
);

CREATE INDEX login_challenges_expires_at ON login_challenges (expires_at);

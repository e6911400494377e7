-- 0002: users and their sessions (components/auth, components/users).
--
-- Emails are stored trimmed and lower-cased by the components, so the
-- unique index makes them case-insensitively unique. Passwords are argon2id
-- PHC strings. A session is a refresh-token family: each refresh spends one
-- token and adds the next; reusing a spent token revokes the family
-- (RFC 9700 §4.14). Refresh tokens are stored only as SHA-256 hashes.

CREATE TABLE users (
    id uuid PRIMARY KEY,
    email text NOT NULL,
    name text NOT NULL,
    role text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
    password_hash text NOT NULL,
    -- An inactive user cannot log in, refresh, or use an access token.
    active boolean NOT NULL DEFAULT true,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_email_key UNIQUE (email)
);

-- Keyset pagination of the admin list: (created_at, id).
CREATE INDEX users_created_at_id ON users (created_at, id);

CREATE TABLE refresh_families (
    id uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);

CREATE INDEX refresh_families_user_id ON refresh_families (user_id);

CREATE TABLE refresh_tokens (
    token_hash bytea PRIMARY KEY,
    family_id uuid NOT NULL REFERENCES refresh_families (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    spent_at timestamptz
);

CREATE INDEX refresh_tokens_family_id ON refresh_tokens (family_id);

-- Access tokens revoked before their expiry (logout). The key-value store
-- holds the same denylist for the fast path; this table answers when it is
-- down.
CREATE TABLE revoked_access_tokens (
    jti uuid PRIMARY KEY,
    user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at timestamptz NOT NULL
);

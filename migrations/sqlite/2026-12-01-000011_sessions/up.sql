-- Sessions of the web pages: a browser signs in with a token once and then carries a cookie. The cookie's value
-- is never stored, only its SHA-256; the session acts with its token's rights while the token is not revoked
-- (revoking a token ends its sessions at once), or, with token_id NULL, as the configured admin token whose
-- digest it remembers. Idle expiry (8 h) is read from last_seen_at, the absolute one (7 days) from expires_at.
CREATE TABLE sessions (
    id_hash      TEXT PRIMARY KEY NOT NULL,
    token_id     INTEGER REFERENCES tokens (id),
    admin_digest TEXT,
    csrf         TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    last_seen_at TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    CHECK ((token_id IS NULL) <> (admin_digest IS NULL))
);
CREATE INDEX sessions_token ON sessions (token_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

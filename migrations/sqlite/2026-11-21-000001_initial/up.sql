-- hanbao's whole data model, SQLite flavour of migrations/postgres: timestamps are RFC 3339 UTC text
-- (fixed width, so text order is time order), dates are YYYY-MM-DD text.

CREATE TABLE units (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL,
    parent_id    BIGINT REFERENCES units (id),
    time_zone    TEXT NOT NULL,
    language     TEXT NOT NULL DEFAULT 'vi',
    contacts     TEXT NOT NULL DEFAULT '{"reporters":[],"heads":[]}', -- JSON {reporters:[email], heads:[email]}
    valid_from   DATE,
    valid_until  DATE,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);
CREATE INDEX units_parent_kind ON units (parent_id, kind);

-- merge, split or rename of a unit on a date; its open deadlines move to the successors
CREATE TABLE unit_successions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    predecessor_id  BIGINT NOT NULL REFERENCES units (id),
    successor_id    BIGINT NOT NULL REFERENCES units (id),
    kind            TEXT NOT NULL CHECK (kind IN ('merge', 'split', 'rename')),
    effective_on    DATE NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (predecessor_id, successor_id)
);

CREATE TABLE plans (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    number          TEXT NOT NULL,
    title           TEXT NOT NULL,
    issuer_id       BIGINT REFERENCES units (id),
    coordinator_id  BIGINT NOT NULL REFERENCES units (id),
    issued_on       DATE,
    starts_on       DATE NOT NULL,
    ends_on         DATE NOT NULL,
    source_url      TEXT,
    text            TEXT,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    CHECK (starts_on <= ends_on)
);
CREATE INDEX plans_coordinator ON plans (coordinator_id);

CREATE TABLE calendars (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    created_at  TEXT NOT NULL
);

-- overrides of the weekly pattern: a weekday off (holiday) or a weekend day worked (làm bù)
CREATE TABLE calendar_days (
    calendar_id  BIGINT NOT NULL REFERENCES calendars (id),
    day          DATE NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('holiday', 'working_day')),
    name         TEXT,
    PRIMARY KEY (calendar_id, day)
);

-- years whose official schedule is published (calendar_complete)
CREATE TABLE calendar_years (
    calendar_id  BIGINT NOT NULL REFERENCES calendars (id),
    year         INTEGER NOT NULL,
    complete     BOOLEAN NOT NULL,
    PRIMARY KEY (calendar_id, year)
);

CREATE TABLE obligations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    plan_id       BIGINT NOT NULL REFERENCES plans (id),
    title         TEXT NOT NULL,
    recipient_id  BIGINT NOT NULL REFERENCES units (id),
    reporters     TEXT NOT NULL, -- JSON {units:[code]} or {group:{parent, kinds}}
    schedule      TEXT NOT NULL, -- JSON, DESIGN.md section 4
    grace         TEXT NOT NULL DEFAULT 'P0D',
    reminders     TEXT NOT NULL, -- JSON [ISO duration]
    escalation    TEXT NOT NULL, -- JSON [{after, to, cc}]
    form          TEXT,          -- JSON Schema of the payload
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL
);
CREATE INDEX obligations_plan ON obligations (plan_id);

CREATE TABLE events (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    obligation_id  BIGINT NOT NULL REFERENCES obligations (id),
    name           TEXT NOT NULL,
    ended_on       DATE NOT NULL,
    units          TEXT, -- JSON [code]; NULL means every reporter of the obligation
    created_at     TEXT NOT NULL
);
CREATE INDEX events_obligation ON events (obligation_id);

CREATE TABLE deadlines (
    id                   INTEGER PRIMARY KEY AUTOINCREMENT,
    obligation_id        BIGINT NOT NULL REFERENCES obligations (id),
    unit_id              BIGINT NOT NULL REFERENCES units (id),
    period               TEXT NOT NULL,
    event_id             BIGINT REFERENCES events (id),
    last_day             DATE NOT NULL,
    due_at               TEXT NOT NULL,
    -- stored state; open/overdue is derived from due_at at read time
    state                TEXT NOT NULL DEFAULT 'pending'
                         CHECK (state IN ('pending', 'submitted', 'late', 'returned', 'waived')),
    submitted_at         TEXT,
    extended_reason      TEXT,
    waived_reason        TEXT,
    created_at           TEXT NOT NULL,
    updated_at           TEXT NOT NULL,
    UNIQUE (obligation_id, unit_id, period)
);
-- "what is due or overdue now" is an index range scan
CREATE INDEX deadlines_state_due ON deadlines (state, due_at);
CREATE INDEX deadlines_unit_due ON deadlines (unit_id, due_at);
CREATE INDEX deadlines_obligation_period ON deadlines (obligation_id, period);

CREATE TABLE tokens (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    name          TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'coordinator', 'reporter', 'viewer')),
    unit_id       BIGINT REFERENCES units (id),
    prefix        TEXT NOT NULL,
    secret_hash   TEXT NOT NULL UNIQUE,
    created_at    TEXT NOT NULL,
    last_used_at  TEXT,
    revoked_at    TEXT
);

CREATE TABLE submissions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    deadline_id     BIGINT NOT NULL REFERENCES deadlines (id),
    unit_id         BIGINT NOT NULL REFERENCES units (id),
    version         INTEGER NOT NULL,
    payload         TEXT NOT NULL,
    note            TEXT,
    received_at     TEXT NOT NULL,
    on_time         BOOLEAN NOT NULL,
    filed_by        TEXT NOT NULL,
    on_behalf       BOOLEAN NOT NULL DEFAULT FALSE,
    review_decision TEXT CHECK (review_decision IN ('accept', 'return')),
    review_comment  TEXT,
    reviewed_by     TEXT,
    reviewed_at     TEXT,
    UNIQUE (deadline_id, version)
);

-- a retried request with the same Idempotency-Key gets the first response
CREATE TABLE idempotency_keys (
    actor            TEXT NOT NULL,
    key              TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER NOT NULL,
    response_body    TEXT NOT NULL,
    created_at       TEXT NOT NULL,
    PRIMARY KEY (actor, key)
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    action     TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    before     TEXT, -- JSON
    after      TEXT  -- JSON
);
CREATE INDEX audit_log_entity ON audit_log (entity, entity_id);

-- every email is a row first (DESIGN.md section 3)
CREATE TABLE outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    dedupe_key       TEXT NOT NULL UNIQUE,
    message_id       TEXT NOT NULL,
    recipients       TEXT NOT NULL, -- JSON {to:[], cc:[]}
    subject          TEXT NOT NULL,
    text_body        TEXT NOT NULL,
    html_body        TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    lease_until      TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL,
    sent_at          TEXT
);
CREATE INDEX outbox_status_next ON outbox (status, next_attempt_at);

-- one row per periodic unit of work (reminder, escalation step, digest slot, tick): whoever inserts it does it
CREATE TABLE job_claims (
    job         TEXT NOT NULL,
    slot        TEXT NOT NULL,
    claimed_at  TEXT NOT NULL,
    PRIMARY KEY (job, slot)
);

-- The floor's tables ({serial}: INTEGER on SQLite, SERIAL on PostgreSQL): the rows a
-- completed survey leaves, as in the app (an invitation marked used, one response,
-- one row per answer; the draft deleted).
CREATE TABLE IF NOT EXISTS campaign (
    id INTEGER PRIMARY KEY,
    organisation TEXT NOT NULL,
    status TEXT NOT NULL,
    opens_on DATE NOT NULL,
    closes_on DATE NOT NULL,
    min_group_size INTEGER NOT NULL,
    min_comment_group_size INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS invitation (
    id {serial} PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaign (id),
    department_id INTEGER NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    used BOOLEAN NOT NULL
);
CREATE TABLE IF NOT EXISTS draft (
    invitation_id INTEGER PRIMARY KEY REFERENCES invitation (id),
    ciphertext BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS response (
    id {serial} PRIMARY KEY,
    campaign_id INTEGER NOT NULL REFERENCES campaign (id),
    department_id INTEGER NOT NULL,
    role_level TEXT NOT NULL,
    language TEXT NOT NULL,
    submitted_on DATE NOT NULL,
    comment TEXT,
    answer_codes BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS answer (
    response_id INTEGER NOT NULL REFERENCES response (id),
    item_id TEXT NOT NULL,
    value INTEGER,
    PRIMARY KEY (response_id, item_id)
);

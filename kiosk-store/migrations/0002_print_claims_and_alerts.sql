-- A print job is claimed by the engine sending it, so that two processes running the queue
-- (the app and the agent) never print it twice. A claim names its owner ("pid:start
-- time:n", as payment attempts do) and when it was made (Unix seconds): one whose owner is
-- gone, or that is old, may be taken over.
ALTER TABLE print_jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE print_jobs ADD COLUMN claimed_at INTEGER;

-- What staff and the health report must know about: a kitchen ticket given up, a journal
-- that failed its check. Raised once while open; cleared by staff, or by the check passing.
CREATE TABLE alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    kind       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    message    TEXT NOT NULL,
    raised_at  TEXT NOT NULL,
    cleared_at TEXT,
    cleared_by TEXT
);

CREATE UNIQUE INDEX alerts_open_once ON alerts (kind, subject) WHERE cleared_at IS NULL;

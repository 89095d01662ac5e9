-- The kiosk's first schema. Migrations are additive only: a later release may add tables,
-- columns with defaults and indexes, never drop or rename, so that a rolled-back release
-- still reads the database. Money is INTEGER minor units (cents).

-- Facts about this database itself, such as the id that makes its payment keys unique.
CREATE TABLE kiosk_meta (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE menus (
    version      INTEGER PRIMARY KEY AUTOINCREMENT,
    label        TEXT NOT NULL,
    source_file  TEXT NOT NULL,
    source       TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    imported_at  TEXT NOT NULL
);

CREATE TABLE menu_images (
    menu_version INTEGER NOT NULL REFERENCES menus (version),
    path         TEXT NOT NULL,
    content      BLOB NOT NULL,
    PRIMARY KEY (menu_version, path)
);

CREATE TABLE stock (
    item_id       TEXT PRIMARY KEY,
    on_hand       INTEGER NOT NULL CHECK (on_hand >= 0),
    low_threshold INTEGER NOT NULL CHECK (low_threshold >= 0),
    sold_out      INTEGER NOT NULL DEFAULT 0,
    updated_at    TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE stock_alerts (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id    TEXT NOT NULL,
    alert      TEXT NOT NULL,
    on_hand    INTEGER NOT NULL,
    created_at TEXT NOT NULL
);

CREATE TABLE order_counters (
    business_date TEXT PRIMARY KEY,
    last          INTEGER NOT NULL
);

CREATE TABLE orders (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    number        TEXT NOT NULL,
    business_date TEXT NOT NULL,
    status        TEXT NOT NULL,
    mode          TEXT NOT NULL,
    menu_version  INTEGER NOT NULL REFERENCES menus (version),
    currency      TEXT NOT NULL,
    total_minor   INTEGER NOT NULL CHECK (total_minor >= 0),
    tax_minor     INTEGER NOT NULL,
    quote         TEXT NOT NULL,
    -- For an order to pay at the counter: when (Unix seconds) its held stock goes back if unpaid.
    counter_until INTEGER,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    UNIQUE (business_date, number)
);

CREATE TABLE payment_attempts (
    key          TEXT PRIMARY KEY,
    order_id     INTEGER NOT NULL REFERENCES orders (id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    state        TEXT NOT NULL,
    reference    TEXT,
    scheme       TEXT,
    last_four    TEXT,
    not_charged  TEXT,
    -- 'terminal' (the kiosk's card terminal), 'counter_cash' or 'counter_card' (settled by staff).
    method       TEXT NOT NULL DEFAULT 'terminal',
    -- 'payment', or 'refund' (money back to the customer) with what it refunds as JSON.
    purpose      TEXT NOT NULL DEFAULT 'payment',
    refund       TEXT,
    -- The process that asked the terminal ("pid:start time"): recovery leaves alone the
    -- attempts of a process that is still running.
    owner        TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE INDEX payment_attempts_by_order ON payment_attempts (order_id);

-- At most one attempt per order may be unresolved: the customer is never asked to pay
-- again while a payment is in doubt.
CREATE UNIQUE INDEX payment_attempts_one_open_per_order
    ON payment_attempts (order_id) WHERE state IN ('requested', 'in_doubt');
-- (A refund is an attempt too: while one is unresolved the order takes no other.)

-- A settled attempt is history: nothing may change its outcome.
CREATE TRIGGER payment_attempts_settled BEFORE UPDATE OF state ON payment_attempts
    WHEN OLD.state IN ('approved', 'not_charged')
BEGIN
    SELECT RAISE(ABORT, 'payment attempt already settled');
END;

-- Units held for a sale in progress: by a payment attempt (its key) or by an order waiting
-- to be paid at the counter ("counter:<order id>").
CREATE TABLE stock_holds (
    holder   TEXT NOT NULL,
    item_id  TEXT NOT NULL,
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (holder, item_id)
) WITHOUT ROWID;

CREATE TABLE journal (
    seq       INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    at        TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT NOT NULL
);

-- Staff accounts. PINs are stored as Argon2 hashes, badges as SHA-256 digests (looked up by
-- digest when scanned). A removed account stays, so that its past actions keep their author.
CREATE TABLE staff (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    pin_hash     TEXT NOT NULL,
    badge_digest TEXT,
    failures     INTEGER NOT NULL DEFAULT 0,
    -- Unix seconds until which the account refuses PINs.
    locked_until INTEGER,
    created_at   TEXT NOT NULL,
    removed_at   TEXT
);

CREATE UNIQUE INDEX staff_active_name ON staff (name COLLATE NOCASE) WHERE removed_at IS NULL;
CREATE UNIQUE INDEX staff_active_badge ON staff (badge_digest) WHERE removed_at IS NULL AND badge_digest IS NOT NULL;

-- Who did what, and when.
CREATE TABLE staff_actions (
    id       INTEGER PRIMARY KEY AUTOINCREMENT,
    actor    TEXT NOT NULL,
    staff_id INTEGER REFERENCES staff (id),
    action   TEXT NOT NULL,
    detail   TEXT NOT NULL,
    at       TEXT NOT NULL
);

-- Receipts and kitchen tickets to print: recorded once per order, purpose and printer,
-- retried until printed (a reprint is a new job each time).
CREATE TABLE print_jobs (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id   INTEGER NOT NULL REFERENCES orders (id),
    purpose    TEXT NOT NULL,
    printer    TEXT NOT NULL,
    document   TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_at TEXT NOT NULL,
    printed_at TEXT
);

CREATE UNIQUE INDEX print_jobs_once ON print_jobs (order_id, purpose, printer) WHERE purpose != 'reprint';
CREATE INDEX print_jobs_pending ON print_jobs (state) WHERE state = 'pending';

-- How often each promo code was used in a paid order.
CREATE TABLE promo_uses (
    code TEXT PRIMARY KEY,
    uses INTEGER NOT NULL
);

-- Z reports: each closes the period since the previous one; its anchor is the journal
-- entry that records the close.
CREATE TABLE z_reports (
    number       INTEGER PRIMARY KEY,
    journal_seq  INTEGER NOT NULL,
    journal_hash TEXT NOT NULL,
    report       TEXT NOT NULL,
    closed_at    TEXT NOT NULL,
    closed_by    TEXT NOT NULL
);

-- The journal only grows. (Whoever can rewrite the file can drop these triggers too: the
-- hash chain and the signatures are what prove an edit; this keeps honest code honest.)
CREATE TRIGGER journal_no_update BEFORE UPDATE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;

CREATE TRIGGER journal_no_delete BEFORE DELETE ON journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;

-- Training sales: made on a simulated terminal, or while a manager has switched training on.
-- They are recorded like sales (the order, its payment, its tickets) but kept out of the
-- fiscal journal and so of the X and Z totals: their entries go to a chain of their own,
-- hashed and signed by the same rules.
ALTER TABLE orders ADD COLUMN training INTEGER NOT NULL DEFAULT 0;

CREATE TABLE training_journal (
    seq       INTEGER PRIMARY KEY,
    kind      TEXT NOT NULL,
    at        TEXT NOT NULL,
    payload   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL,
    signature TEXT NOT NULL
);

CREATE TRIGGER training_journal_no_update BEFORE UPDATE ON training_journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;

CREATE TRIGGER training_journal_no_delete BEFORE DELETE ON training_journal
BEGIN
    SELECT RAISE(ABORT, 'the journal is append-only');
END;

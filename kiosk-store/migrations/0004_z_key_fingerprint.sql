-- Each Z ticket prints the fingerprint of the journal key registered at first start, so that
-- a replaced key shows on paper. Z reports closed before this have none.
ALTER TABLE z_reports ADD COLUMN key_fingerprint TEXT NOT NULL DEFAULT '';

-- The e-receipt link carries a random token per order, never the order number (which
-- repeats every day and is easy to guess). Orders placed before this have none: their
-- receipts print no e-receipt code.
ALTER TABLE orders ADD COLUMN receipt_token TEXT;

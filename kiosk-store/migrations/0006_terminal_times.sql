-- The time the terminal gave an approved transaction: a refund names the payment by its
-- reference and this time. Approvals recorded before this have none.
ALTER TABLE payment_attempts ADD COLUMN terminal_time TEXT;

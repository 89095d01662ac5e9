-- A year of sales must not slow the kiosk down: what is looked up at every start and upkeep,
-- or by the number on a ticket, is found through an index instead of reading every order.

-- Counter orders waiting for their money, voided once their time is over.
CREATE INDEX orders_waiting_at_counter ON orders (counter_until)
    WHERE status = 'placed' AND counter_until IS NOT NULL;

-- An order by the number on its ticket (numbers start again each business day).
CREATE INDEX orders_by_number ON orders (number);

-- Payments whose outcome is not known yet, settled with the terminal.
CREATE INDEX payment_attempts_unresolved ON payment_attempts (state)
    WHERE state IN ('requested', 'in_doubt');

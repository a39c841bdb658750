-- Deadline lists are read in (due_at, id) order with keyset pages: give every filter an index ending in
-- (due_at, id), so a page is one index range scan whatever its position.
DROP INDEX deadlines_state_due;
DROP INDEX deadlines_unit_due;
CREATE INDEX deadlines_state_due ON deadlines (state, due_at, id);
CREATE INDEX deadlines_unit_due ON deadlines (unit_id, due_at, id);
CREATE INDEX deadlines_obligation_due ON deadlines (obligation_id, due_at, id);
CREATE INDEX deadlines_due ON deadlines (due_at, id);

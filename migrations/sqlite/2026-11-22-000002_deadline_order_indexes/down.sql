DROP INDEX deadlines_due;
DROP INDEX deadlines_obligation_due;
DROP INDEX deadlines_unit_due;
DROP INDEX deadlines_state_due;
CREATE INDEX deadlines_state_due ON deadlines (state, due_at);
CREATE INDEX deadlines_unit_due ON deadlines (unit_id, due_at);

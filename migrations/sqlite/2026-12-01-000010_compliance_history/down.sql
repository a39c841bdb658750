ALTER TABLE deadlines DROP COLUMN first_due_at;
ALTER TABLE deadlines DROP COLUMN extended_at;
ALTER TABLE deadlines DROP COLUMN waived_at;

ALTER TABLE deadlines DROP COLUMN revision;
ALTER TABLE tokens DROP COLUMN kind;

ALTER TABLE deadlines DROP COLUMN submitted_on;
ALTER TABLE submissions DROP COLUMN document_ref;
ALTER TABLE submissions DROP COLUMN received_on;

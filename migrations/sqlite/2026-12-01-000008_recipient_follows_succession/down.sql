DROP TABLE obligation_recipients;
DROP INDEX deadlines_recipient_due;
ALTER TABLE deadlines DROP COLUMN recipient_id;

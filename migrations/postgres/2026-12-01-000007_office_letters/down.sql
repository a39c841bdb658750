ALTER TABLE outbox DROP COLUMN sender_name;
ALTER TABLE deadlines DROP COLUMN notices_sent;
ALTER TABLE obligations DROP COLUMN notes;
ALTER TABLE obligations DROP COLUMN wording;
ALTER TABLE plans DROP COLUMN filing_instructions;
ALTER TABLE units DROP COLUMN email;
ALTER TABLE units DROP COLUMN phone;
ALTER TABLE units DROP COLUMN address;

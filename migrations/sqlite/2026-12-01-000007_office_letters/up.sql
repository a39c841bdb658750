-- What emails written as official letters need: the coordinating office's address, phone and email for the
-- signature block; a plan's instructions for filing; an obligation's own words in the plan (and the office's notes
-- on how it was read); how many reminders
-- and escalations a deadline has had (so the next one counts on from them); the sender's display name of an email.
ALTER TABLE units ADD COLUMN address TEXT;
ALTER TABLE units ADD COLUMN phone TEXT;
ALTER TABLE units ADD COLUMN email TEXT;
ALTER TABLE plans ADD COLUMN filing_instructions TEXT;
ALTER TABLE obligations ADD COLUMN wording TEXT;
ALTER TABLE obligations ADD COLUMN notes TEXT;
ALTER TABLE deadlines ADD COLUMN notices_sent INTEGER NOT NULL DEFAULT 0;
UPDATE deadlines SET notices_sent = (
    SELECT count(*) FROM job_claims
    WHERE job IN ('reminder', 'escalation')
      AND job_claims.slot LIKE CAST(deadlines.id AS TEXT) || ':%'
) WHERE EXISTS (SELECT 1 FROM job_claims WHERE job_claims.slot LIKE CAST(deadlines.id AS TEXT) || ':%');
ALTER TABLE outbox ADD COLUMN sender_name TEXT;

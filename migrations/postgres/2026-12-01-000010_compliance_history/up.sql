-- When a waiver or an extension was decided, and the due instant a deadline had before its first extension: what
-- `GET /api/v1/compliance?as_of=` needs to say how a deadline stood at an earlier moment. Decisions made before
-- this version take their time from the audit log; their earlier due instant is not known (docs/compliance.md).
ALTER TABLE deadlines ADD COLUMN waived_at TIMESTAMPTZ;
ALTER TABLE deadlines ADD COLUMN extended_at TIMESTAMPTZ;
ALTER TABLE deadlines ADD COLUMN first_due_at TIMESTAMPTZ;
UPDATE deadlines SET waived_at = (
    SELECT MAX(a.at) FROM audit_log a WHERE a.action = 'deadline.waiver' AND a.entity_id = CAST(deadlines.id AS TEXT)
) WHERE waived_reason IS NOT NULL;
UPDATE deadlines SET extended_at = (
    SELECT MAX(a.at) FROM audit_log a WHERE a.action = 'deadline.extension' AND a.entity_id = CAST(deadlines.id AS TEXT)
) WHERE extended_reason IS NOT NULL;

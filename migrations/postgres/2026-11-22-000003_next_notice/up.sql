-- The instant a deadline next needs a look from the notice tick (a reminder or an escalation step may be due);
-- NULL when nothing more will ever be sent. "What is due now?" is then an index range scan.
ALTER TABLE deadlines ADD COLUMN next_notice_at TIMESTAMPTZ;
-- 1970: "look at me at the next tick, whatever instant it runs as" (tick --at may travel back in time).
UPDATE deadlines SET next_notice_at = '1970-01-01T00:00:00.000000Z' WHERE state = 'pending';
CREATE INDEX deadlines_next_notice ON deadlines (next_notice_at) WHERE next_notice_at IS NOT NULL;

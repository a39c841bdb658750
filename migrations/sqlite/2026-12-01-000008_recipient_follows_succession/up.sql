-- An obligation's recipient follows succession: each deadline records the unit its report goes to (the recipient
-- valid on its last day), so that history keeps the old recipient and later periods go to the successor.
-- Where the office chooses a recipient from some period on (a split, say), the choice is kept by obligation,
-- from the last day of that period on.
ALTER TABLE deadlines ADD COLUMN recipient_id BIGINT REFERENCES units (id);
UPDATE deadlines SET recipient_id = (SELECT recipient_id FROM obligations WHERE obligations.id = deadlines.obligation_id);
CREATE INDEX deadlines_recipient_due ON deadlines (recipient_id, due_at);
CREATE TABLE obligation_recipients (
    obligation_id BIGINT NOT NULL REFERENCES obligations (id),
    from_day      DATE NOT NULL,
    recipient_id  BIGINT NOT NULL REFERENCES units (id),
    PRIMARY KEY (obligation_id, from_day)
);

-- Deadlines that were already past due when they were made are history being recorded (plans loaded years after
-- they started): they get no reminders and no escalations. New ones are made that way; this stops the ones an
-- earlier version queued for the notice tick. Nothing is lost: a deadline reopened by an extension is looked at
-- again from then on.
UPDATE deadlines SET next_notice_at = NULL WHERE state = 'pending' AND due_at <= created_at;

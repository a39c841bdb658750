-- Calendar feeds. A token now has a kind: `api` (every token so far), `feed` (reads the .ics calendar feeds and
-- nothing else, so it may travel in a URL, which calendar apps need) or `filing_link` (the token of a letter's
-- link, told apart until now only by its expiry).
ALTER TABLE tokens ADD COLUMN kind TEXT NOT NULL DEFAULT 'api' CHECK (kind IN ('api', 'feed', 'filing_link'));
UPDATE tokens SET kind = 'filing_link' WHERE expires_at IS NOT NULL;
-- How many times a deadline's last day moved (recomputation, extension): a calendar event's SEQUENCE, so that
-- calendar apps take the new date.
ALTER TABLE deadlines ADD COLUMN revision INTEGER NOT NULL DEFAULT 0;

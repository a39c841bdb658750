-- Filing links: a unit's letter carries a link with a token of its own, a reporter token for that unit only
-- that expires 30 days after the letter (NULL: a token that does not expire, as every token before).
ALTER TABLE tokens ADD COLUMN expires_at TEXT;

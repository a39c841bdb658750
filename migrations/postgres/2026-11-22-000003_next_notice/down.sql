DROP INDEX deadlines_next_notice;
ALTER TABLE deadlines DROP COLUMN next_notice_at;

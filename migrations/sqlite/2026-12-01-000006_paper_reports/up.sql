-- Reports that arrive on paper or through the provincial document system are entered later by the office:
-- the date the document arrived (received_on) and its incoming number (document_ref, "số đến") are recorded, and
-- timeliness is judged on the arrival date. A deadline whose first report came that way keeps the date.
ALTER TABLE submissions ADD COLUMN received_on DATE;
ALTER TABLE submissions ADD COLUMN document_ref TEXT;
ALTER TABLE deadlines ADD COLUMN submitted_on DATE;

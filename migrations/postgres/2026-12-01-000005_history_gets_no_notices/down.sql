-- Nothing to undo: which deadlines were history is not recorded.
SELECT 1;

-- Unit codes are ASCII (letters, digits, '.', '_', '-'); two that differ only in case (`hn-badinh` beside
-- `HN-BADINH`) would be two units an officer cannot tell apart in a list or a reporter group. The database refuses
-- the second, so a race between two creates cannot make both.
CREATE UNIQUE INDEX units_code_lower ON units (lower(code));

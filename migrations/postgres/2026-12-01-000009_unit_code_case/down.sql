DROP INDEX units_code_lower;

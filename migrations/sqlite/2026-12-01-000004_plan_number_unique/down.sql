DROP INDEX plans_issuer_number;

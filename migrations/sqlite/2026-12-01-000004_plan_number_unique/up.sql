-- The same number from the same issuer is the same document (a conflict), enforced by the database so that two
-- concurrent creates cannot both succeed. Plans without an issuer share one namespace: NULL issuers compare
-- equal through COALESCE (ids start at 1).
CREATE UNIQUE INDEX plans_issuer_number ON plans (COALESCE(issuer_id, 0), number);

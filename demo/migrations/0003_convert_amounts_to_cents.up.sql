-- The failed migration of the demo: it multiplies stored amounts by 100 and changes the column's
-- meaning. Its down script cannot tell converted rows from rows written after it ran, so it has none:
-- recovery from it is a point-in-time restore to just before it started.
UPDATE transactions SET amount = amount * 100;
COMMENT ON COLUMN transactions.amount IS 'cents';

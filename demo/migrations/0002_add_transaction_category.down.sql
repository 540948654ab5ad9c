DROP INDEX IF EXISTS transactions_category_idx;
ALTER TABLE transactions DROP COLUMN IF EXISTS category;

ALTER TABLE transactions ADD COLUMN category text;
CREATE INDEX transactions_category_idx ON transactions(category);

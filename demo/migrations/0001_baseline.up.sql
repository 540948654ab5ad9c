-- The schema in demo/financial-schema.sql is version 0001; this marks it.
SELECT 1;

-- The financial application that the runbooks recover (the seeds' MITA schema, reduced to what
-- the checks read). Amounts are numeric(14,2): money is never a float. A transaction carries its
-- account's currency and the client's reference (its idempotency key): a replayed write has the same one.
CREATE TABLE IF NOT EXISTS users (
  id          bigint PRIMARY KEY,
  email       text NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS accounts (
  id          bigint PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id),
  currency    char(3) NOT NULL DEFAULT 'USD',
  balance     numeric(14,2) NOT NULL DEFAULT 0,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS accounts_user_id_idx ON accounts(user_id);
CREATE TABLE IF NOT EXISTS transactions (
  id          bigserial PRIMARY KEY,
  account_id  bigint NOT NULL REFERENCES accounts(id),
  user_id     bigint NOT NULL REFERENCES users(id),
  amount      numeric(14,2) NOT NULL,
  currency    char(3) NOT NULL DEFAULT 'USD',
  description text NOT NULL,
  reference   text NOT NULL DEFAULT ('txn-' || gen_random_uuid()) CONSTRAINT transactions_reference_key UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX IF NOT EXISTS transactions_account_id_idx ON transactions(account_id);
CREATE INDEX IF NOT EXISTS transactions_user_id_idx ON transactions(user_id);
CREATE INDEX IF NOT EXISTS transactions_created_at_idx ON transactions(created_at);
CREATE TABLE IF NOT EXISTS savings_goals (
  id             bigint PRIMARY KEY,
  user_id        bigint NOT NULL REFERENCES users(id),
  name           text NOT NULL,
  target_amount  numeric(14,2) NOT NULL CONSTRAINT savings_goals_target_positive CHECK (target_amount > 0),
  current_amount numeric(14,2) NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS savings_goals_user_id_idx ON savings_goals(user_id);
CREATE TABLE IF NOT EXISTS subscriptions (
  id          bigint PRIMARY KEY,
  user_id     bigint NOT NULL REFERENCES users(id),
  plan        text NOT NULL,
  monthly_fee numeric(14,2) NOT NULL CONSTRAINT subscriptions_fee_not_negative CHECK (monthly_fee >= 0),
  active      boolean NOT NULL DEFAULT true
);
CREATE INDEX IF NOT EXISTS subscriptions_user_id_idx ON subscriptions(user_id);
CREATE TABLE IF NOT EXISTS audit_logs (
  id          bigserial PRIMARY KEY,
  user_id     bigint REFERENCES users(id),
  action      text NOT NULL,
  at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

import type { ApplicationDeclarationInput } from '../activities/validation/declaration';

/**
 * The demo financial application as it declares itself to the validation gate (the `application:`
 * section the local stack writes into the worker config): the ledger and the audit log are append-only
 * history; balances are the ledger's sums; a transaction's user and currency are its account's; a
 * transaction's reference is its idempotency key. Labels are seed 000's reconciliation report.
 */
export const financialApplication = {
  name: 'mita',
  tables: {
    users: { key: 'id', createdAt: 'created_at', labels: { rows: 'User Accounts' } },
    transactions: {
      key: 'id',
      appendOnly: true,
      createdAt: 'created_at',
      recent: true,
      money: ['amount'],
      labels: { rows: 'Total Transactions', amount: 'Transaction Sum' },
    },
    savings_goals: { key: 'id', money: ['current_amount', 'target_amount'], labels: { current_amount: 'Goals Total' } },
    accounts: { key: 'id', createdAt: 'created_at', money: ['balance'], labels: { balance: 'Account Balances' } },
    subscriptions: { key: 'id', money: ['monthly_fee'] },
    audit_logs: { key: 'id', appendOnly: true, createdAt: 'at' },
  },
  ledgers: [{ table: 'accounts', balance: 'balance', entries: 'transactions', amount: 'amount', through: 'account_id' }],
  ownership: [{ table: 'transactions', column: 'user_id', through: 'account_id', parent: 'accounts', parentColumn: 'user_id' }],
  currency: [{ table: 'transactions', column: 'currency', through: 'account_id', parent: 'accounts', parentColumn: 'currency' }],
  businessKeys: [{ table: 'transactions', columns: ['reference'] }],
  tolerance: { rows: 0.05, money: 0.05 },
  clockSkew: '30 seconds',
  longestTransaction: '1 minute',
} satisfies ApplicationDeclarationInput;

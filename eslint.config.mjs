// Workflows are replayed from history, so they must not reach the outside world directly:
// every side effect goes through an activity. This rule keeps the obvious ways out of workflows/.
import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

const nodeBuiltins = builtinModules.filter((name) => !name.startsWith('_'));

export const workflowImportRestrictions = {
  paths: nodeBuiltins.flatMap((name) => [
    { name, message: 'Workflows are deterministic: do I/O in an activity, not with Node built-ins.' },
    { name: `node:${name}`, message: 'Workflows are deterministic: do I/O in an activity, not with Node built-ins.' },
  ]).concat([
    { name: 'pg', message: 'Workflows never talk to PostgreSQL: call a database activity.' },
    { name: '@kubernetes/client-node', message: 'Workflows never talk to Kubernetes: call an AppRuntime activity.' },
  ]),
  patterns: [
    { group: ['node:*'], message: 'Workflows are deterministic: no Node built-ins.' },
    { group: ['@aws-sdk/*'], message: 'Workflows never call AWS: call a platform activity.' },
    { group: ['**/activities', '**/activities/**'], message: 'Workflows reference activities through proxyActivities and their types only (import type).', allowTypeImports: true },
    { regex: '^(\\.\\.?/)+(worker|stack|client|lib|scripts|bench|demo)(/|$)', message: 'Workflows are bundled into the worker\'s sandbox: they import workflows, contracts and the SDK only.' },
  ],
};

// Contracts are what both sides stand on: bundled into workflow code, imported by activities. Same rules
// as workflows, and they import nothing of the project but other contracts (not even activity types).
export const contractImportRestrictions = {
  paths: workflowImportRestrictions.paths,
  patterns: [
    ...workflowImportRestrictions.patterns.filter((p) => !p.group?.includes('**/activities')),
    { group: ['**/activities', '**/activities/**', '**/workflows', '**/workflows/**'], message: 'Contracts import only other contracts: a contract that needs an activity or a workflow is not a contract.' },
  ],
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.cache/**', '.state/**', 'test/fixtures/**'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // CommonJS launchers (client/bin) load the TypeScript sources with require().
    files: ['**/*.js'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    files: ['workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', workflowImportRestrictions],
    },
  },
  {
    files: ['contracts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', contractImportRestrictions],
    },
  },
);

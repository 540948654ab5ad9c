import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatEnvFile, parseEnvFile } from '../../activities/adapters/local/env-file';
import { databaseUrl, endpointOfUrl, formatEndpoint } from '../../lib/postgres-url';

test('parses KEY=value lines, comments, export and both quote styles', () => {
  const vars = parseEnvFile([
    '# the app',
    '',
    'DATABASE_URL=postgresql://app:p%40ss@127.0.0.1:5433/mita',
    'export MODE = live ',
    'GREETING="hello \\"world\\"" # trailing comment',
    "RAW='a b # c'",
  ].join('\n'));
  assert.deepEqual(vars, { DATABASE_URL: 'postgresql://app:p%40ss@127.0.0.1:5433/mita', MODE: 'live', GREETING: 'hello "world"', RAW: 'a b # c' });
});

test('a malformed line is an error naming the line', () => {
  assert.throws(() => parseEnvFile('A=1\nnot a pair\n', 'app.env'), /^Error: app\.env line 2: expected KEY=value/);
  assert.throws(() => parseEnvFile('A="open\n'), /line 1: unterminated double quote/);
});

test('format then parse gives back the same values, quoting only what needs it', () => {
  const vars = { DATABASE_URL: databaseUrl({ host: '127.0.0.1', port: 5433, database: 'mita', user: 'app', password: 'p@ss w"rd#\\' }), NAME: 'recovered' };
  const text = formatEnvFile(vars, 'written by a test');
  assert.match(text, /^# written by a test\n/);
  assert.match(text, /\nNAME=recovered\n/);
  assert.deepEqual(parseEnvFile(text), vars);
  assert.throws(() => formatEnvFile({ 'BAD KEY': 'x' }), /env key "BAD KEY" is not a valid name/);
});

test('the endpoint of a URL has host, port and database but no credentials', () => {
  const url = databaseUrl({ host: 'db.mita.internal', port: 6543, database: 'mita', user: 'app', password: 'secret-pw' });
  const endpoint = endpointOfUrl(url);
  assert.deepEqual(endpoint, { host: 'db.mita.internal', port: 6543, database: 'mita' });
  assert.equal(formatEndpoint(endpoint), 'db.mita.internal:6543/mita');
  assert.ok(!JSON.stringify(endpoint).includes('secret-pw'));
  assert.deepEqual(endpointOfUrl('postgresql://u@host/'), { host: 'host', port: 5432, database: 'postgres' });
  assert.throws(() => endpointOfUrl('mysql://u:p@h/db'), /must start with postgresql:\/\//);
  assert.throws(() => endpointOfUrl('not a url'), /not a valid URL/);
});

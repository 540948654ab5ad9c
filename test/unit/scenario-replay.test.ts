import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { historyFromStandardJson } from '../support/history-json';
import { quietTemporalLogs } from '../support/quiet-logs';

// Histories of real scenario runs (the demo's accidental-deletion drill: PITR, validation, diffs, dry run,
// the repair gate approved by Update, cleanup, the report) must replay against today's workflows: a change
// to a scenario that has run needs patched(), and this is where forgetting it fails. Recorded with
// `temporal workflow show --output json` from a run of `npm run demo`.
const historiesDir = path.join(__dirname, '..', 'fixtures', 'histories', 'scenarios');
const histories = readdirSync(historiesDir).filter((f) => f.endsWith('.json')).sort();
const silent = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

test('scenario histories are there', () => {
  assert.ok(histories.includes('accidental-deletion-drill-repair-gate.json'), histories.join(', '));
});

for (const file of histories) {
  test(`replays ${file} against the current workflows`, async () => {
    quietTemporalLogs();
    const workflowBundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: silent });
    const history = historyFromStandardJson(JSON.parse(readFileSync(path.join(historiesDir, file), 'utf8')));
    await Worker.runReplayHistory({ workflowBundle }, history, file);
  });
}

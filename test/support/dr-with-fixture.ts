// `dr` with the test fixture runbook registered as scenario "fixture", the way a real scenario registers
// itself in client/scenarios.ts; everything else is the real CLI. Run: node --import tsx test/support/dr-with-fixture.ts …
import { runbookFlags, scenarios } from '../../client/scenarios';
import { fixtureRunbookInput } from '../fixtures/workflows';

scenarios.push({
  name: 'fixture',
  workflowType: 'fixtureRunbook',
  description: 'the engine test runbook (steps, a cutover gate, compensations)',
  input: fixtureRunbookInput,
  kind: 'runbook',
  flags: [...runbookFlags, { flag: '--hold-ms <ms>', field: 'holdMs', description: 'hold the held step this long', parse: Number }],
});

// After the table is complete: the CLI registers its commands from it when loaded.
void import('../../client/cli');

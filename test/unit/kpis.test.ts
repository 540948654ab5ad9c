import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeKpis, rateText, type KpiInput, type KpiRun } from '../../contracts/kpis';
import { escapeHtml, renderKpisHtml } from '../../client/kpis-html';
import { parsePeriodBound } from '../../client/kpis';
import { renderKpisText } from '../../client/kpis-text';

const period = { since: '2026-11-01T00:00:00.000Z', until: '2026-12-01T00:00:00.000Z' };
const none: KpiInput = { ...period, runs: [], recoveryTests: {}, backups: {} };

function drill(id: string, at: string, rto: number | undefined, rpo: number | undefined, over: Partial<KpiRun> = {}): KpiRun {
  return {
    workflowId: id,
    scenario: 'server-failure',
    environment: 'production',
    incidentId: `DRILL-${id}`,
    mode: 'drill',
    verdict: 'completed',
    declaredAt: at,
    closedAt: at,
    rto: { objectiveSeconds: 3600, ...(rto !== undefined ? { achievedSeconds: rto, cutoverVerifiedAt: at } : {}) },
    rpo: { objectiveSeconds: 900, ...(rpo !== undefined ? { achievedSeconds: rpo } : {}) },
    ...over,
  };
}

test('no runs: every figure says it is computed from nothing, no rate is invented', () => {
  const k = computeKpis(none);
  assert.deepEqual(k.mttr, { runs: 0, notRecovered: 0 });
  assert.deepEqual(k.drills, []);
  assert.deepEqual(k.drillSuccess, { succeeded: 0, runs: 0 });
  assert.deepEqual(k.recoveryTests, { succeeded: 0, runs: 0, byStatus: {} });
  assert.equal(rateText(k.backups), 'no runs');
  assert.match(renderKpisText(k), /MTTR \(real incidents, declared → completed\): no recovered incidents/);
  assert.match(renderKpisText(k), /No drills in the period/);
  const html = renderKpisHtml(k);
  assert.ok(!html.includes('<svg'), 'no chart without drills');
  assert.match(html, /No drills in the period/);
});

test('drills: RTO and RPO against their objectives, oldest first; a drill passes as runDrill says', () => {
  const k = computeKpis({
    ...none,
    runs: [
      drill('b', '2026-11-10T03:00:00.000Z', 4000, 10),
      drill('a', '2026-11-03T03:00:00.000Z', 42, 3),
      drill('c', '2026-11-20T03:00:00.000Z', 50, 1200),
    ],
  });
  assert.deepEqual(k.drills.map((d) => [d.workflowId, d.passed, d.rto.met, d.rpo.met]), [['a', true, true, true], ['b', false, false, true], ['c', false, true, false]]);
  assert.deepEqual(k.rto, { met: 2, missed: 1, unjudged: 0 });
  assert.deepEqual(k.rpo, { met: 2, missed: 1, unjudged: 0 });
  assert.deepEqual(k.drillSuccess, { succeeded: 1, runs: 3, rate: 1 / 3 });
  assert.equal(rateText(k.drillSuccess), '33.3 % (1 of 3)');
  assert.match(renderKpisText(k), /passed {2}server-failure {2}DRILL-a {2}RTO 42 s of 1 h met {2}RPO 3 s of 15 min met/);
});

test('a drill without an RPO still passes; one that failed before the cutover has no RTO and fails', () => {
  const k = computeKpis({
    ...none,
    runs: [
      drill('no-rpo', '2026-11-03T03:00:00.000Z', 30, undefined),
      // A failed run has an elapsed clock but no verified cutover: that is time spent, not an RTO achieved.
      drill('failed', '2026-11-04T03:00:00.000Z', undefined, undefined, { verdict: 'failed', rto: { achievedSeconds: 75, objectiveSeconds: 3600 } }),
    ],
  });
  assert.deepEqual(k.drills.map((d) => [d.workflowId, d.passed, d.rto.achievedSeconds, d.rpo.achievedSeconds]), [['no-rpo', true, 30, undefined], ['failed', false, undefined, undefined]]);
  assert.deepEqual(k.rto, { met: 1, missed: 0, unjudged: 1 });
  assert.deepEqual(k.rpo, { met: 0, missed: 0, unjudged: 2 });
  assert.match(renderKpisText(k), /FAILED {2}server-failure {2}DRILL-failed {2}RTO not measured \(objective: 1 h\)/);
});

test('objectives missing: the figure is shown, neither met nor missed, and the drill does not pass on it', () => {
  const k = computeKpis({ ...none, runs: [drill('x', '2026-11-03T03:00:00.000Z', 30, 2, { rto: { achievedSeconds: 30, cutoverVerifiedAt: '2026-11-03T03:00:30.000Z' }, rpo: { achievedSeconds: 2, objectiveSeconds: 0 } })] });
  const [d] = k.drills;
  assert.deepEqual(d!.rto, { achievedSeconds: 30 });
  assert.deepEqual(d!.rpo, { achievedSeconds: 2 });
  assert.equal(d!.passed, false, 'without an RTO objective a drill proves nothing');
  assert.deepEqual(k.rto, { met: 0, missed: 0, unjudged: 1 });
  assert.match(renderKpisText(k), /RTO 30 s \(no objective\) {2}RPO 2 s \(no objective\)/);
});

test('MTTR: real runs that completed, declaredAt → close, averaged; the others counted as not recovered; drills never count', () => {
  const real = (id: string, declaredAt: string, closedAt: string, verdict = 'completed'): KpiRun => ({ ...drill(id, declaredAt, 1, 1), mode: 'real', closedAt, verdict });
  const k = computeKpis({
    ...none,
    runs: [
      real('r1', '2026-11-05T10:00:00.000Z', '2026-11-05T10:30:00.000Z'),
      real('r2', '2026-11-06T10:00:00.000Z', '2026-11-06T11:30:00.000Z'),
      real('r3', '2026-11-07T10:00:00.000Z', '2026-11-07T10:05:00.000Z', 'approval-rejected'),
      drill('d', '2026-11-08T10:00:00.000Z', 10, 1),
    ],
  });
  assert.deepEqual(k.mttr, { meanSeconds: 3600, runs: 2, notRecovered: 1 });
  assert.equal(k.drills.length, 1);
  assert.match(renderKpisText(k), /MTTR \(real incidents, declared → completed\): 1 h over 2 runs; 1 not recovered/);
});

test('recovery tests and backups: completed out of the closed runs, by status; continued-as-new is no outcome', () => {
  const k = computeKpis({ ...none, recoveryTests: { Completed: 3, Failed: 1, ContinuedAsNew: 2 }, backups: { Completed: 4, Terminated: 0 } });
  assert.deepEqual(k.recoveryTests, { succeeded: 3, runs: 4, rate: 0.75, byStatus: { Completed: 3, Failed: 1 } });
  assert.deepEqual(k.backups, { succeeded: 4, runs: 4, rate: 1, byStatus: { Completed: 4 } });
  assert.match(renderKpisText(k), /Recovery-test success \(backup restore tests\): 75 % \(3 of 4\) — completed 3, failed 1/);
});

test('the HTML page: every piece of input escaped, one point per measured drill and series, an objective line per objective, no script', () => {
  const hostile = '<script>alert(1)</script>"\'&';
  const k = computeKpis({
    ...none,
    runs: [
      drill('a', '2026-11-03T03:00:00.000Z', 42, 3, { scenario: hostile, incidentId: `<img src=x onerror=alert(2)>` }),
      drill('b', '2026-11-10T03:00:00.000Z', 60, undefined),
      drill('c', '2026-11-20T03:00:00.000Z', 50, 0, { rto: { achievedSeconds: 50, objectiveSeconds: 14_400, cutoverVerifiedAt: '2026-11-20T03:00:50.000Z' } }),
    ],
  });
  const html = renderKpisHtml(k);
  assert.ok(!/<script|<img/i.test(html), 'no markup from input survives');
  assert.ok(html.includes(escapeHtml(hostile)));
  assert.equal(escapeHtml(hostile), '&#60;script&#62;alert(1)&#60;/script&#62;&#34;&#39;&#38;');
  assert.equal((html.match(/<circle class="point rto"/g) ?? []).length, 3);
  assert.equal((html.match(/<circle class="point rpo"/g) ?? []).length, 2, 'the drill without an RPO has no RPO point');
  assert.equal((html.match(/<line class="objective rto"/g) ?? []).length, 2, 'two RTO objectives: 1 h and 4 h');
  assert.equal((html.match(/<line class="objective rpo"/g) ?? []).length, 1);
  assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  assert.ok(!/https?:\/\/(?!www\.w3\.org\/2000\/svg)/.test(html), 'nothing is fetched');
});

test('--since and --until: a duration back from now or an ISO time; anything else is refused naming the flag', () => {
  const now = new Date('2026-12-01T12:00:00.000Z');
  assert.equal(parsePeriodBound('--since', '30d', now).toISOString(), '2026-11-01T12:00:00.000Z');
  assert.equal(parsePeriodBound('--since', '90 minutes', now).toISOString(), '2026-12-01T10:30:00.000Z');
  assert.equal(parsePeriodBound('--until', '2026-11-15T00:00:00Z', now).toISOString(), '2026-11-15T00:00:00.000Z');
  assert.throws(() => parsePeriodBound('--since', 'last week', now), /--since: "last week" must be a duration back from now/);
  assert.throws(() => parsePeriodBound('--until', '2026-13-45', now), /--until: "2026-13-45" is not an ISO 8601 time/);
});

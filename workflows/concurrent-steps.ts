import { CancellationScope } from '@temporalio/workflow';

/**
 * Runs two steps of a runbook at once where neither needs the other's result (an assessment of
 * production beside a restore into a new instance). Both run to their end before this returns or
 * throws: when `beside` fails, `main` is cancelled and waited for (a build removes what it half-built,
 * and its registered cleanup stays with the runbook's compensations); when `main` fails, `beside` is
 * waited for. The first failure is what is thrown.
 */
export async function besideEachOther<M, B>(main: () => Promise<M>, beside: () => Promise<B>): Promise<[M, B]> {
  const mainScope = new CancellationScope();
  // `beside` starts first: it is the shorter one, and the timeline lists it first.
  const besideRun = beside().catch((error: unknown) => {
    mainScope.cancel();
    throw error;
  });
  const mainRun = mainScope.run(main);
  const [m, b] = await Promise.allSettled([mainRun, besideRun]);
  if (b.status === 'rejected') throw b.reason;
  if (m.status === 'rejected') throw m.reason;
  return [m.value, b.value];
}

import type { V1Deployment } from '@kubernetes/client-node';

// `kubectl rollout status deployment/NAME`, as kubectl decides it (DeploymentStatusViewer): pure, so
// the rules are tested on sequences of states the controller goes through.

export interface DeploymentRollout {
  state: 'progressing' | 'done' | 'failed';
  /** kubectl's own line for this state. */
  message: string;
  desired: number;
  updated: number;
  available: number;
  /** Every replica the Deployment has now, old and new, terminating ones included. */
  replicas: number;
  generation: number;
  observedGeneration: number;
  revision?: string;
}

/** kubectl's reason on the Progressing condition when a rollout has not progressed for progressDeadlineSeconds. */
export const progressDeadlineExceeded = 'ProgressDeadlineExceeded';

export function rolloutOf(deployment: V1Deployment): DeploymentRollout {
  const name = deployment.metadata?.name ?? '?';
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const replicas = status.replicas ?? 0;
  const generation = deployment.metadata?.generation ?? 0;
  const observedGeneration = status.observedGeneration ?? 0;
  const revision = deployment.metadata?.annotations?.['deployment.kubernetes.io/revision'];
  const base = { desired, updated, available, replicas, generation, observedGeneration, ...(revision ? { revision } : {}) };
  const at = (state: DeploymentRollout['state'], message: string): DeploymentRollout => ({ state, message, ...base });

  if (generation > observedGeneration) return at('progressing', 'Waiting for deployment spec update to be observed...');
  const progressing = status.conditions?.find((c) => c.type === 'Progressing');
  if (progressing?.reason === progressDeadlineExceeded) {
    return at('failed', `deployment "${name}" exceeded its progress deadline${progressing.message ? `: ${progressing.message}` : ''}`);
  }
  if (updated < desired) return at('progressing', `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${desired} new replicas have been updated...`);
  if (replicas > updated) return at('progressing', `Waiting for deployment "${name}" rollout to finish: ${replicas - updated} old replicas are pending termination...`);
  if (available < updated) return at('progressing', `Waiting for deployment "${name}" rollout to finish: ${available} of ${updated} updated replicas are available...`);
  return at('done', `deployment "${name}" successfully rolled out`);
}

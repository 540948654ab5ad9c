import type { GateApprovers, StackReadinessWiring } from '../activities/readiness/stack-readiness';
import { defaultTotpSecretName } from '../activities/vote-proofs';
import { durationToMs } from '../contracts/durations';
import type { WorkerConfig } from './config';

/** What the readiness check reads from the config; the wiring point adds the ports. */
export type StackReadinessPlan = Pick<StackReadinessWiring, 'environment' | 'databases' | 'backupMaxAgeSeconds' | 'rpoSeconds' | 'repositoryPath' | 'secretNames' | 'gates' | 'allowedSignersFile' | 'totpSecretName'>;

/**
 * Every secret the config names that the worker reads (fields named *Secret: the notifiers' keys, the alert
 * receiver's credentials, the audit head key, the ElastiCache AUTH tokens), the payload key and the file
 * archives' key. Not the databases' (checked per database) nor the connection secrets the runbooks write.
 */
export function configuredSecretNames(config: WorkerConfig): string[] {
  const names: string[] = [];
  const walk = (value: unknown) => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, v] of Object.entries(value)) {
        if (typeof v === 'string' && /Secret$/.test(key) && key !== 'connectionSecret') names.push(v);
        else walk(v);
      }
    }
  };
  const { databases: _databases, approvals: _approvals, ...rest } = config;
  walk(rest);
  if (config.payloadEncryption) names.push(`${config.payloadEncryption.keySecretPrefix}${config.payloadEncryption.currentKeyId}`);
  if (config.files) names.push(config.files.keyId);
  return [...new Set(names)];
}

/** Each gate the config names (and each scenario's own), with its approvers and the proof their votes need. */
export function configuredGates(config: WorkerConfig): GateApprovers[] {
  const { approvals } = config;
  const gates: GateApprovers[] = Object.entries(approvals.gates).map(([gate, g]) => ({ gate, approvers: g.approvers, authentication: g.authentication ?? approvals.authentication }));
  for (const [scenario, s] of Object.entries(approvals.scenarios)) {
    for (const [gate, g] of Object.entries(s.gates)) gates.push({ gate: `${scenario}/${gate}`, approvers: g.approvers, authentication: g.authentication ?? approvals.authentication });
  }
  return gates;
}

/** The databases and objectives are the monitoring's (metrics.databases, metrics.backupMaxAge, the RPO), so `dr readiness` and the alert rules agree. */
export function stackReadinessPlan(config: WorkerConfig): StackReadinessPlan {
  const rpoSeconds = durationToMs(config.objectives.default.rpo) / 1000;
  return {
    environment: config.environment,
    databases: config.metrics?.databases ?? Object.keys(config.databases).filter((name) => name !== config.audit?.database),
    backupMaxAgeSeconds: config.metrics?.backupMaxAge ? durationToMs(config.metrics.backupMaxAge) / 1000 : rpoSeconds,
    rpoSeconds,
    ...(config.platform?.local ? { repositoryPath: config.platform.local.stateDir } : {}),
    secretNames: configuredSecretNames(config),
    gates: configuredGates(config),
    ...(config.approvals.allowedSigners ? { allowedSignersFile: config.approvals.allowedSigners } : {}),
    totpSecretName: (approver) => config.approvals.totpSecrets[approver] ?? defaultTotpSecretName(approver),
  };
}

import { existsSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';

/** How the worker signs in to one cluster (config `kubernetes.clusters.<name>`). */
export interface KubernetesClusterAccess {
  /** The cluster's name in the worker config, for messages. */
  name: string;
  kubeconfig?: string;
  context?: string;
  inCluster?: boolean;
}

/**
 * The client configuration of one cluster: a kubeconfig file and one of its contexts (the seed's
 * `arn:aws:eks:…:cluster/mita-dr`), or the pod's own ServiceAccount (token and CA mounted by the kubelet).
 * Refuses, naming the config key, a file that is missing or a context it does not have.
 */
export function kubeConfigFor(access: KubernetesClusterAccess): KubeConfig {
  const where = `kubernetes.clusters.${access.name}`;
  const kc = new KubeConfig();
  if (access.inCluster) {
    if (!process.env.KUBERNETES_SERVICE_HOST) throw new Error(`${where}.inCluster: the worker does not run in a Kubernetes pod (KUBERNETES_SERVICE_HOST is not set); give a kubeconfig instead`);
    kc.loadFromCluster();
    return kc;
  }
  if (!access.kubeconfig) throw new Error(`${where}.kubeconfig: required (a kubeconfig file), or inCluster: true`);
  if (!existsSync(access.kubeconfig)) throw new Error(`${where}.kubeconfig: ${access.kubeconfig} does not exist`);
  try {
    kc.loadFromFile(access.kubeconfig);
  } catch (error) {
    throw new Error(`${where}.kubeconfig: ${access.kubeconfig} is not a kubeconfig: ${(error as Error).message}`);
  }
  if (access.context) {
    const contexts = kc.getContexts().map((c) => c.name);
    if (!contexts.includes(access.context)) throw new Error(`${where}.context: "${access.context}" is not in ${access.kubeconfig} (it has: ${contexts.join(', ') || 'no context'})`);
    kc.setCurrentContext(access.context);
  } else if (!kc.getCurrentContext()) {
    throw new Error(`${where}.context: ${access.kubeconfig} has no current-context: name the context to use`);
  }
  return kc;
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { PrerequisiteError } from '../lib/prerequisite-error';
import { repoRoot } from './paths';

/** The build recipe scripts/build-kubernetes.sh builds from; its go.mod says which release. */
export const kubernetesRecipeDir = path.join(repoRoot, 'stack', 'kubernetes', 'build');
/** Our own kwok pod stages (ready now, ready later, never ready); kwok's node stages come with the build. */
export const kwokPodStagesDir = path.join(repoRoot, 'stack', 'kubernetes', 'kwok-stages');

export interface KubernetesBinaries {
  version: string;
  kubeApiserver: string;
  kubeControllerManager: string;
  kubeScheduler: string;
  etcd: string;
  kwok: string;
  /** kwok's own stages for nodes and for deleting pods, copied from its module by the build. */
  kwokStagesDir: string;
}

/** The release the recipe builds, read from its go.mod (`k8s.io/kubernetes v1.37.2`). */
export function recipeKubernetesVersion(): string {
  const match = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)\b/m.exec(readFileSync(path.join(kubernetesRecipeDir, 'go.mod'), 'utf8'));
  if (!match?.[1]) throw new Error(`no k8s.io/kubernetes requirement in ${path.join(kubernetesRecipeDir, 'go.mod')}`);
  return match[1];
}

/**
 * The control plane the bootstrap builds into the cache (`${DR_CACHE_DIR:-.cache}/kubernetes-<version>`);
 * DR_KUBERNETES_DIR points at another build of the same layout.
 */
export function kubernetesBinaries(): KubernetesBinaries {
  const version = recipeKubernetesVersion();
  const dir = process.env.DR_KUBERNETES_DIR ?? path.join(process.env.DR_CACHE_DIR ?? path.join(repoRoot, '.cache'), `kubernetes-${version}`);
  const bin = (name: string) => path.join(dir, 'bin', name);
  const binaries: KubernetesBinaries = {
    version,
    kubeApiserver: bin('kube-apiserver'),
    kubeControllerManager: bin('kube-controller-manager'),
    kubeScheduler: bin('kube-scheduler'),
    etcd: bin('etcd'),
    kwok: bin('kwok'),
    kwokStagesDir: path.join(dir, 'kwok-stages'),
  };
  const missing = [binaries.kubeApiserver, binaries.kubeControllerManager, binaries.kubeScheduler, binaries.etcd, binaries.kwok, binaries.kwokStagesDir].filter((file) => !existsSync(file));
  if (missing.length > 0) {
    throw new PrerequisiteError(
      `the Kubernetes ${version} control plane is not built (missing ${missing.map((file) => path.relative(dir, file)).join(', ')} in ${dir})`,
      'run `npm run bootstrap` (it builds kube-apiserver, kube-controller-manager, kube-scheduler, etcd and kwok from Go modules, about 10 minutes the first time), or set DR_KUBERNETES_DIR',
    );
  }
  return binaries;
}

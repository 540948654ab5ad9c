import { CoreV1Api, type KubeConfig, type V1Secret } from '@kubernetes/client-node';
import { assertSecretName, type SecretRef, type SecretStore, type SecretValue, type SecretVersion } from '../../ports/secret-store';
import { kubernetesError, statusOf } from './api-errors';
import { decodeData, encodeData } from './app-secret-data';
import { updateWithRetry } from './optimistic-update';

export interface KubernetesSecretStoreOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  /** Each secret is the Secret `<namePrefix><name>`. */
  namePrefix: string;
  /** Versions kept besides the current and the previous one. */
  keepVersions: number;
}

// How the versions are kept: ONE Secret per secret name, holding the current value under `value` (what a
// person writes with `kubectl create secret generic NAME --from-literal=value=…`, and what a pod may mount)
// and each kept version under `version.<n>`, with the version list and the order versions were made current
// in annotations. Why not one Secret per version (labelled): RBAC cannot restrict `create` or `list` to
// names, so the worker would need them on every Secret of the namespace; with one Secret per name its Role
// is get/update on exactly the named Secrets. A write (new version + current + pruning) is also one
// replace of one object, atomic and guarded by its resourceVersion. Version ids are our own counter: the
// resourceVersion changes on every write (making a version current again is a write), so it cannot name a
// version. The Secret size limit (1 MiB) bounds it: only the last `keepVersions` versions are kept, never
// the current or the previous one. The cost: only the worker (and whoever may read that Secret) sees old
// versions, and a pod mounting the Secret sees them too, so the application mounts its own Secret
// (app.kubernetes.secret), never the store's.

const annotation = {
  versions: 'dr-runbooks.io/versions',
  currentHistory: 'dr-runbooks.io/current-history',
} as const;
const valueKey = 'value';
const versionKey = (version: string) => `version.${version}`;
/** How many "made current" entries the history keeps (only its end is ever read). */
const historyLength = 20;

interface VersionEntry { version: string; createdAt: string }
interface Layout { data: Record<string, string>; versions: VersionEntry[]; currentHistory: string[] }

const kubernetesName = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function layoutOf(secret: V1Secret): Layout {
  const annotations = secret.metadata?.annotations ?? {};
  const parse = <T>(text: string | undefined, fallback: T): T => {
    try {
      return text ? (JSON.parse(text) as T) : fallback;
    } catch {
      return fallback;
    }
  };
  return { data: decodeData(secret.data), versions: parse<VersionEntry[]>(annotations[annotation.versions], []), currentHistory: parse<string[]>(annotations[annotation.currentHistory], []) };
}

function withLayout(secret: V1Secret, layout: Layout): V1Secret {
  return {
    ...secret,
    metadata: { ...secret.metadata, annotations: { ...secret.metadata?.annotations, [annotation.versions]: JSON.stringify(layout.versions), [annotation.currentHistory]: JSON.stringify(layout.currentHistory.slice(-historyLength)) } },
    data: encodeData(layout.data),
    stringData: undefined,
  };
}

/** The SecretStore kept in Kubernetes Secrets (see above for the layout and why). */
export function createKubernetesSecretStore(options: KubernetesSecretStoreOptions): SecretStore {
  const core = options.kubeConfig.makeApiClient(CoreV1Api);
  const { namespace } = options;
  const secretNameOf = (name: string) => {
    assertSecretName(name);
    const full = `${options.namePrefix}${name}`;
    if (!kubernetesName.test(full) || full.length > 253) throw new Error(`secret "${name}" cannot be kept as the Kubernetes Secret "${full}": Secret names are lowercase letters, digits, '-' and '.'; rename it in the worker config`);
    return full;
  };
  const where = (name: string) => `Secret ${namespace}/${secretNameOf(name)}`;

  async function get(name: string, doing: string): Promise<V1Secret> {
    try {
      return await core.readNamespacedSecret({ namespace, name: secretNameOf(name) });
    } catch (error) {
      if (statusOf(error) === 404) {
        throw new Error(`secret "${name}" is not set: the ${where(name)} does not exist (create it: kubectl create secret generic ${secretNameOf(name)} -n ${namespace} --from-literal=value=…)`);
      }
      throw kubernetesError(error, `${doing} ${where(name)}`);
    }
  }

  /** The current version: the end of the history, or the hand-written value a person put there. */
  const currentOf = (layout: Layout): string | undefined => layout.currentHistory.at(-1);

  function prune(layout: Layout): void {
    const current = currentOf(layout);
    const previous = [...layout.currentHistory].reverse().find((v) => v !== current);
    const keep = new Set([...layout.versions.slice(-options.keepVersions).map((v) => v.version), current, previous].filter((v): v is string => v !== undefined));
    for (const entry of layout.versions.filter((v) => !keep.has(v.version))) delete layout.data[versionKey(entry.version)];
    layout.versions = layout.versions.filter((v) => keep.has(v.version));
    layout.currentHistory = layout.currentHistory.filter((v) => keep.has(v));
  }

  /**
   * A secret nobody set is created empty before its first version, where the worker may create Secrets;
   * the shipped Role does not let it (RBAC cannot limit create to names), and then the refusal says which
   * Secret to create.
   */
  async function createIfMissing(name: string): Promise<void> {
    try {
      await core.readNamespacedSecret({ namespace, name: secretNameOf(name) });
      return;
    } catch (error) {
      if (statusOf(error) !== 404) throw kubernetesError(error, `reading ${where(name)}`);
    }
    try {
      await core.createNamespacedSecret({ namespace, body: { metadata: { name: secretNameOf(name), labels: { 'app.kubernetes.io/managed-by': 'dr-runbooks' } }, type: 'Opaque' } });
    } catch (error) {
      if (statusOf(error) === 409) return; // created meanwhile
      if (statusOf(error) === 403) {
        throw new Error(`secret "${name}" cannot be written: the ${where(name)} does not exist and the worker may not create Secrets (its Role grants get/update on named Secrets only): create it empty first, kubectl create secret generic ${secretNameOf(name)} -n ${namespace}`);
      }
      throw kubernetesError(error, `creating ${where(name)}`);
    }
  }

  async function update(name: string, doing: string, change: (layout: Layout) => boolean): Promise<Layout> {
    const { object } = await updateWithRetry<V1Secret>(
      () => get(name, doing),
      (secret) => {
        const layout = layoutOf(secret);
        return change(layout) ? withLayout(secret, layout) : undefined;
      },
      async (next) => {
        try {
          return await core.replaceNamespacedSecret({ namespace, name: secretNameOf(name), body: next });
        } catch (error) {
          if (statusOf(error) === 409) throw error; // re-read and try again
          throw kubernetesError(error, `${doing} ${where(name)}`);
        }
      },
    ).catch((error: unknown) => {
      throw statusOf(error) === 409 ? kubernetesError(error, `${doing} ${where(name)} (it kept changing under us)`) : error;
    });
    return layoutOf(object);
  }

  const versionOf = (name: string, layout: Layout, version: string): SecretVersion => {
    const entry = layout.versions.find((v) => v.version === version);
    return { name, version, ...(entry ? { createdAt: entry.createdAt } : {}) };
  };
  const noSuchVersion = (name: string, layout: Layout, version: string) =>
    new Error(`secret "${name}" has no version ${version} in the ${where(name)} (have: ${layout.versions.map((v) => v.version).join(', ') || 'none'})`);

  return {
    async read(ref: string | SecretRef): Promise<SecretValue> {
      const { name, version } = typeof ref === 'string' ? { name: ref, version: undefined } : ref;
      const layout = layoutOf(await get(name, 'reading'));
      if (version !== undefined) {
        const value = layout.data[versionKey(version)];
        if (value === undefined) throw noSuchVersion(name, layout, version);
        return { ...versionOf(name, layout, version), value: value.trim() };
      }
      const value = layout.data[valueKey];
      if (value === undefined) throw new Error(`secret "${name}" is not set: the ${where(name)} has no key "${valueKey}"`);
      return { ...versionOf(name, layout, currentOf(layout) ?? 'hand-written'), value: value.trim() };
    },

    async write(name, value) {
      await createIfMissing(name);
      let written: SecretVersion | undefined;
      const layout = await update(name, 'writing a new version of', (layout) => {
        // A value a person wrote by hand becomes version 1, so it can be gone back to.
        if (layout.versions.length === 0 && layout.data[valueKey] !== undefined) {
          layout.versions.push({ version: '1', createdAt: new Date().toISOString() });
          layout.data[versionKey('1')] = layout.data[valueKey]!;
          layout.currentHistory = ['1'];
        }
        const current = currentOf(layout);
        if (current !== undefined && layout.data[versionKey(current)]?.trim() === value.trim()) {
          written = versionOf(name, layout, current);
          return false;
        }
        const next = String(Math.max(0, ...layout.versions.map((v) => Number(v.version))) + 1);
        layout.versions.push({ version: next, createdAt: new Date().toISOString() });
        layout.data[versionKey(next)] = value;
        layout.data[valueKey] = value;
        layout.currentHistory.push(next);
        prune(layout);
        written = versionOf(name, layout, next);
        return true;
      });
      return written ?? versionOf(name, layout, currentOf(layout)!);
    },

    async readPrevious(name) {
      const layout = layoutOf(await get(name, 'reading'));
      const current = currentOf(layout);
      const previous = [...layout.currentHistory].reverse().find((v) => v !== current);
      const value = previous === undefined ? undefined : layout.data[versionKey(previous)];
      return previous === undefined || value === undefined ? undefined : { ...versionOf(name, layout, previous), value: value.trim() };
    },

    async makeCurrent(name, version) {
      const layout = await update(name, 'making a version current in', (layout) => {
        const value = layout.data[versionKey(version)];
        if (value === undefined) throw noSuchVersion(name, layout, version);
        if (currentOf(layout) === version && layout.data[valueKey] === value) return false;
        layout.data[valueKey] = value;
        layout.currentHistory.push(version);
        prune(layout);
        return true;
      });
      return versionOf(name, layout, version);
    },
  };
}

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import https from 'node:https';
import http from 'node:http';
import path from 'node:path';
import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import YAML from 'yaml';
import { writeFileAtomic } from '../lib/atomic-file';
import { sleep, spawnServer, tailOf, type ServerProcess } from '../lib/child-process';
import { removePidFile, stopLeftoverProcesses, writePidFile } from '../lib/pid-files';
import { freePort } from '../lib/ports';
import { PrerequisiteError } from '../lib/prerequisite-error';
import { kubernetesBinaries, kwokPodStagesDir, type KubernetesBinaries } from './kubernetes-binaries';

/** Pod template annotations our kwok stages read: a pod becomes ready after this long ("3s")… */
export const readyAfterAnnotation = 'dr-runbooks.test/ready-after';
/** …or never (any value): its Deployment stalls and reports ProgressDeadlineExceeded. */
export const neverReadyAnnotation = 'dr-runbooks.test/never-ready';

export interface KubernetesControlPlaneOptions {
  /** Everything lives here: etcd's data, certificates, keys, kubeconfigs, logs; a start replaces the last run's. */
  stateDir: string;
  /** Simulated nodes (kwok); pods are scheduled onto them and never run a container. Default 1. */
  nodes?: number;
  startTimeoutMs?: number;
  log?: (line: string) => void;
}

export interface KubernetesControlPlane {
  version: string;
  /** https://127.0.0.1:PORT; its serving certificate is `caCertificate`, so clients verify TLS. */
  server: string;
  caCertificate: string;
  /** A kubeconfig for an administrator (group system:masters), with the CA embedded. */
  kubeconfigPath: string;
  /** The administrator's KubeConfig, loaded from `kubeconfigPath`. */
  adminConfig(): KubeConfig;
  /** Creates a namespace (an existing one is fine) and waits until pods may be created in it. */
  createNamespace(name: string): Promise<void>;
  /**
   * Writes a kubeconfig that acts as the ServiceAccount, with a token from the TokenRequest API, so a test can
   * run an adapter with exactly the permissions its Role grants. The ServiceAccount must exist.
   */
  serviceAccountKubeconfig(namespace: string, serviceAccount: string, options?: { expirationSeconds?: number }): Promise<string>;
  logDir: string;
  /** SIGTERM to each process (kwok, scheduler, controller manager, then the API server, then etcd). */
  stop(): Promise<void>;
}

interface Ports { etcdClient: number; etcdPeer: number; apiserver: number; controllerManager: number; scheduler: number }

const adminUser = 'dr-admin';

/**
 * A real Kubernetes control plane on loopback, built by the bootstrap from Go modules: etcd, kube-apiserver
 * (token authentication, RBAC, service-account tokens), kube-controller-manager, kube-scheduler, and kwok
 * simulating nodes and pod readiness. Starts empty; stops what a killed earlier run in the same state
 * directory left running.
 */
export async function startKubernetesControlPlane(options: KubernetesControlPlaneOptions): Promise<KubernetesControlPlane> {
  const binaries = kubernetesBinaries();
  const log = options.log ?? (() => undefined);
  const stateDir = path.resolve(options.stateDir);
  const dirs = {
    pids: path.join(stateDir, 'pids'),
    logs: path.join(stateDir, 'logs'),
    etcd: path.join(stateDir, 'etcd'),
    pki: path.join(stateDir, 'pki'),
    apiserverCerts: path.join(stateDir, 'pki', 'apiserver'),
    kubeconfigs: path.join(stateDir, 'kubeconfigs'),
    kwok: path.join(stateDir, 'kwok'),
  };
  const leftovers = await stopLeftoverProcesses(dirs.pids, `${stateDir}/`);
  if (leftovers.length > 0) log(`stopped ${leftovers.length} Kubernetes processes an earlier run left in ${stateDir}`);
  // A fresh cluster every time; only what we put there is removed, whatever else shares the directory.
  for (const dir of Object.values(dirs)) rmSync(dir, { recursive: true, force: true });
  for (const dir of Object.values(dirs)) mkdirSync(dir, { recursive: true, mode: 0o700 });

  const deadline = Date.now() + (options.startTimeoutMs ?? 120_000);
  const ports: Ports = { etcdClient: await freePort(), etcdPeer: await freePort(), apiserver: await freePort(), controllerManager: await freePort(), scheduler: await freePort() };
  const adminToken = randomBytes(32).toString('hex');
  const files = writeCredentials(dirs.pki, adminToken);
  const server = `https://127.0.0.1:${ports.apiserver}`;
  const started: Array<{ name: string; proc: ServerProcess }> = [];
  const exited = new Set<string>();

  const start = (name: string, binary: string, args: string[], env?: NodeJS.ProcessEnv): ServerProcess => {
    const proc = spawnServer(binary, args, path.join(dirs.logs, `${name}.log`), env ? { env: { ...process.env, ...env } } : {});
    writePidFile(path.join(dirs.pids, `${name}.pid`), proc.pid);
    started.push({ name, proc });
    return proc;
  };
  const stopAll = async () => {
    const byName = new Map(started.map((s) => [s.name, s.proc]));
    const stopOne = async (name: string) => {
      await byName.get(name)?.stop('SIGTERM', 10_000);
      removePidFile(path.join(dirs.pids, `${name}.pid`));
    };
    await Promise.all(['kwok', 'kube-scheduler', 'kube-controller-manager'].map(stopOne));
    await stopOne('kube-apiserver');
    await stopOne('etcd');
  };
  // A process that exits while we wait for the control plane is the reason it never gets ready: say which.
  const failIfExited = () => {
    for (const { name, proc } of started) {
      if (exited.has(name)) {
        throw new PrerequisiteError(`${name} exited while the Kubernetes control plane was starting (log: ${proc.logFile})`, 'read the log lines above; the binaries are rebuilt by `npm run bootstrap`', tailOf(proc.logFile, 12));
      }
    }
  };
  const watch = (name: string, proc: ServerProcess) => void proc.exited.then(() => exited.add(name));

  try {
    log(`starting etcd on 127.0.0.1:${ports.etcdClient}`);
    watch('etcd', start('etcd', binaries.etcd, etcdArgs(dirs.etcd, ports)));
    await waitFor('etcd to be healthy', deadline, failIfExited, async () => {
      const answer = await request(`http://127.0.0.1:${ports.etcdClient}/health`, {});
      return answer.status === 200 && /"health":\s*"true"/.test(answer.body);
    });

    log(`starting kube-apiserver ${binaries.version} on ${server}`);
    watch('kube-apiserver', start('kube-apiserver', binaries.kubeApiserver, apiserverArgs(dirs.apiserverCerts, files, ports)));
    const caFile = path.join(dirs.apiserverCerts, 'apiserver.crt');
    await waitFor('kube-apiserver /readyz', deadline, failIfExited, async () => {
      if (!existsSync(caFile)) return false;
      const answer = await request(`${server}/readyz`, { ca: readFileSync(caFile, 'utf8'), token: adminToken });
      return answer.status === 200 && answer.body.trim() === 'ok';
    });
    const caCertificate = readFileSync(caFile, 'utf8');
    const kubeconfigPath = path.join(dirs.kubeconfigs, 'admin.kubeconfig');
    writeKubeconfig(kubeconfigPath, { server, caCertificate, user: adminUser, token: adminToken });

    log('starting kube-controller-manager, kube-scheduler and kwok');
    watch('kube-controller-manager', start('kube-controller-manager', binaries.kubeControllerManager, controllerManagerArgs(kubeconfigPath, files, caFile, ports, path.join(dirs.pki, 'controller-manager'))));
    watch('kube-scheduler', start('kube-scheduler', binaries.kubeScheduler, schedulerArgs(kubeconfigPath, ports, path.join(dirs.pki, 'scheduler'))));
    const stagesFile = writeKwokStages(dirs.kwok, binaries);
    // kwok also reads ~/.kwok/kwok.yaml when it exists: a home of its own keeps a developer's config out.
    watch('kwok', start('kwok', binaries.kwok, kwokArgs(kubeconfigPath, stagesFile), { HOME: dirs.kwok }));

    const kc = loadConfig(kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);
    const nodeNames = Array.from({ length: options.nodes ?? 1 }, (_, i) => `kwok-node-${i}`);
    for (const name of nodeNames) await core.createNode({ body: fakeNode(name) });
    await waitFor('the kwok nodes to be Ready and schedulable', deadline, failIfExited, async () => {
      const nodes = await core.listNode();
      return nodeNames.every((name) => {
        const node = nodes.items.find((n) => n.metadata?.name === name);
        const ready = node?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
        const tainted = node?.spec?.taints?.some((t) => t.key.startsWith('node.kubernetes.io/'));
        return ready && !tainted;
      });
    });
    await waitForDefaultServiceAccount(core, 'default', deadline, failIfExited);
    log(`Kubernetes ${binaries.version} control plane is ready on ${server} (kubeconfig ${kubeconfigPath})`);

    return {
      version: binaries.version,
      server,
      caCertificate,
      kubeconfigPath,
      logDir: dirs.logs,
      adminConfig: () => loadConfig(kubeconfigPath),
      async createNamespace(name) {
        try {
          await core.createNamespace({ body: { metadata: { name } } });
        } catch (error) {
          if (statusOf(error) !== 409) throw error;
        }
        await waitForDefaultServiceAccount(core, name, Date.now() + 30_000, () => undefined);
      },
      async serviceAccountKubeconfig(namespace, serviceAccount, tokenOptions = {}) {
        const answer = await core.createNamespacedServiceAccountToken({
          namespace,
          name: serviceAccount,
          body: { spec: { audiences: [], expirationSeconds: tokenOptions.expirationSeconds ?? 3600 } },
        });
        const token = answer.status?.token;
        if (!token) throw new Error(`the TokenRequest for serviceaccount ${namespace}/${serviceAccount} returned no token`);
        const file = path.join(dirs.kubeconfigs, `${namespace}.${serviceAccount}.kubeconfig`);
        writeKubeconfig(file, { server, caCertificate, user: `system:serviceaccount:${namespace}:${serviceAccount}`, token, namespace });
        return file;
      },
      stop: stopAll,
    };
  } catch (error) {
    await stopAll().catch(() => undefined);
    throw error;
  }
}

/** Reads a kubeconfig file into a KubeConfig (the one place tests and adapters build their clients from). */
export function loadConfig(kubeconfigPath: string): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  return kc;
}

function etcdArgs(dataDir: string, ports: Ports): string[] {
  const client = `http://127.0.0.1:${ports.etcdClient}`;
  const peer = `http://127.0.0.1:${ports.etcdPeer}`;
  return [
    '--name=dr-test', `--data-dir=${dataDir}`,
    `--listen-client-urls=${client}`, `--advertise-client-urls=${client}`,
    `--listen-peer-urls=${peer}`, `--initial-advertise-peer-urls=${peer}`, `--initial-cluster=dr-test=${peer}`,
    // A test cluster: losing the last writes in a power cut does not matter, waiting for fsync does.
    '--unsafe-no-fsync', '--log-level=warn',
  ];
}

interface CredentialFiles { tokens: string; serviceAccountKey: string; serviceAccountPublicKey: string }

function writeCredentials(pkiDir: string, adminToken: string): CredentialFiles {
  const files: CredentialFiles = {
    tokens: path.join(pkiDir, 'tokens.csv'),
    serviceAccountKey: path.join(pkiDir, 'service-account.key'),
    serviceAccountPublicKey: path.join(pkiDir, 'service-account.pub'),
  };
  writeFileSync(files.tokens, `${adminToken},${adminUser},${adminUser}-uid,"system:masters"\n`, { mode: 0o600 });
  const { publicKey, privateKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  writeFileSync(files.serviceAccountKey, privateKey, { mode: 0o600 });
  writeFileSync(files.serviceAccountPublicKey, publicKey);
  return files;
}

function apiserverArgs(certDir: string, files: CredentialFiles, ports: Ports): string[] {
  return [
    `--etcd-servers=http://127.0.0.1:${ports.etcdClient}`,
    '--bind-address=127.0.0.1', '--advertise-address=127.0.0.1', `--secure-port=${ports.apiserver}`,
    // It makes its own serving certificate for 127.0.0.1 here; the kubeconfig trusts exactly that one.
    `--cert-dir=${certDir}`,
    `--token-auth-file=${files.tokens}`, '--authorization-mode=RBAC',
    `--service-account-key-file=${files.serviceAccountPublicKey}`, `--service-account-signing-key-file=${files.serviceAccountKey}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    '--service-cluster-ip-range=10.96.0.0/24', '--endpoint-reconciler-type=none',
    '--profiling=false', '--v=0',
  ];
}

/** The controller manager and scheduler talk to the API server as the administrator and serve only on loopback. */
function componentArgs(kubeconfig: string, port: number, certDir: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`, `--authentication-kubeconfig=${kubeconfig}`, `--authorization-kubeconfig=${kubeconfig}`,
    // Without it they keep asking for the extension-apiserver-authentication ConfigMap, which nothing here makes.
    '--authentication-skip-lookup=true',
    '--bind-address=127.0.0.1', `--secure-port=${port}`, `--cert-dir=${certDir}`, '--leader-elect=false', '--profiling=false', '--v=0',
  ];
}

function controllerManagerArgs(kubeconfig: string, files: CredentialFiles, caFile: string, ports: Ports, certDir: string): string[] {
  return [
    ...componentArgs(kubeconfig, ports.controllerManager, certDir),
    `--service-account-private-key-file=${files.serviceAccountKey}`, `--root-ca-file=${caFile}`,
    // No node IPAM: kwok hands out pod IPs itself. No ClusterTrustBundle for the serving certificate: the API
    // server's self-made one is not a CA bundle, and the publisher would retry it forever.
    '--controllers=*,-nodeipam,-kube-apiserver-serving-clustertrustbundle-publisher-controller',
  ];
}

function schedulerArgs(kubeconfig: string, ports: Ports, certDir: string): string[] {
  return componentArgs(kubeconfig, ports.scheduler, certDir);
}

function kwokArgs(kubeconfig: string, stagesFile: string): string[] {
  return [
    `--kubeconfig=${kubeconfig}`, `--config=${stagesFile}`,
    // Only the nodes we create, marked as kwok's, are simulated; their pod IPs are never dialled.
    '--manage-all-nodes=false', '--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake',
    '--node-ip=127.0.0.1', '--cidr=127.16.0.1/16',
  ];
}

/** kwok's own node stages and pod deletion from the build, plus our pod readiness stages. */
function writeKwokStages(kwokDir: string, binaries: KubernetesBinaries): string {
  const yamlFiles = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort().map((f) => path.join(dir, f));
  const stages = [...yamlFiles(binaries.kwokStagesDir), ...yamlFiles(kwokPodStagesDir)].map((file) => readFileSync(file, 'utf8').trim());
  const file = path.join(kwokDir, 'stages.yaml');
  writeFileSync(file, stages.join('\n---\n') + '\n');
  return file;
}

function fakeNode(name: string) {
  return {
    metadata: {
      name,
      annotations: { 'kwok.x-k8s.io/node': 'fake' },
      labels: { 'kubernetes.io/hostname': name, 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'amd64', type: 'kwok' },
    },
  };
}

function writeKubeconfig(file: string, c: { server: string; caCertificate: string; user: string; token: string; namespace?: string }): void {
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'dr-test', cluster: { server: c.server, 'certificate-authority-data': Buffer.from(c.caCertificate).toString('base64') } }],
    users: [{ name: c.user, user: { token: c.token } }],
    contexts: [{ name: 'dr-test', context: { cluster: 'dr-test', user: c.user, ...(c.namespace ? { namespace: c.namespace } : {}) } }],
    'current-context': 'dr-test',
  };
  writeFileAtomic(file, YAML.stringify(config));
}

async function waitForDefaultServiceAccount(core: CoreV1Api, namespace: string, deadline: number, failIfExited: () => void): Promise<void> {
  // Pods are refused until the controller manager has made the namespace's `default` ServiceAccount.
  await waitFor(`serviceaccount ${namespace}/default`, deadline, failIfExited, async () => {
    try {
      await core.readNamespacedServiceAccount({ name: 'default', namespace });
      return true;
    } catch (error) {
      if (statusOf(error) === 404) return false;
      throw error;
    }
  });
}

async function waitFor(what: string, deadline: number, failIfExited: () => void, check: () => Promise<boolean | undefined>): Promise<void> {
  let lastError: unknown;
  for (;;) {
    failIfExited();
    try {
      if (await check()) return;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) {
      throw new PrerequisiteError(
        `timed out waiting for ${what}${lastError ? ` (last error: ${(lastError as Error).message})` : ''}`,
        'read the logs in the control plane\'s state directory (logs/); check free memory and that nothing else holds its ports, then try again',
      );
    }
    await sleep(200);
  }
}

/** The HTTP status of a failed @kubernetes/client-node call (an ApiException's `code`). */
export function statusOf(error: unknown): number | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'number' ? code : undefined;
}

function request(url: string, options: { ca?: string; token?: string }): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const headers = options.token ? { Authorization: `Bearer ${options.token}` } : undefined;
    const req = (target.protocol === 'https:' ? https : http).get(target, { ca: options.ca, headers, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => { body += chunk; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within 2 s`)));
    req.on('error', reject);
  });
}

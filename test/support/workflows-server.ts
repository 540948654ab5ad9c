import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before } from 'node:test';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { startTemporalServer, type TemporalServer } from '../../stack/temporal-server';
import { quietTemporalLogs } from './quiet-logs';

/** The project's real workflows on a real dev server, bundled once, for tests that fake the activities. */
export interface WorkflowsServer {
  server: TemporalServer;
  env: TestWorkflowEnvironment;
  bundle: WorkflowBundleWithSourceMap;
  /** Runs `fn` with a worker of the real workflows and these activities on a fresh task queue. */
  withWorker<T>(activities: object, fn: (taskQueue: string) => Promise<T>, prefix?: string): Promise<T>;
}

/** Starts the server before the file's tests and stops it after; the fields are there once `before` ran. */
export function useWorkflowsServer(tmpPrefix: string): WorkflowsServer {
  let stateDir: string | undefined;
  const ctx = {
    async withWorker<T>(activities: object, fn: (taskQueue: string) => Promise<T>, prefix = 'workflows'): Promise<T> {
      const taskQueue = `${prefix}-${randomUUID()}`;
      const worker = await Worker.create({ connection: ctx.env.nativeConnection, namespace: ctx.server.namespace, taskQueue, workflowBundle: ctx.bundle, activities });
      return worker.runUntil(fn(taskQueue));
    },
  } as WorkflowsServer;
  before(async () => {
    quietTemporalLogs();
    stateDir = mkdtempSync(path.join(os.tmpdir(), tmpPrefix));
    ctx.server = await startTemporalServer({ stateDir });
    ctx.env = await TestWorkflowEnvironment.createFromExistingServer({ address: ctx.server.address, namespace: ctx.server.namespace });
    ctx.bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('../../workflows'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: (m) => console.error(m) } });
  });
  after(async () => {
    await ctx.env?.teardown();
    await ctx.server?.stop();
    if (stateDir) rmSync(stateDir, { recursive: true, force: true });
  });
  return ctx;
}

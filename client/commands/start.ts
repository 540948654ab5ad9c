import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { inputFields, unknownFieldProblem } from '../../contracts/inputs';
import { CliError, ExitCode } from '../connection';
import { startRunbook, webUiLink } from '../runbooks';
import { flagFor, scenarios, type ScenarioEntry } from '../scenarios';
import { withTemporal } from './with-temporal';

interface StartOptions {
  input?: string;
  workflowId?: string;
  wait?: boolean;
  [flag: string]: unknown;
}

function readInputFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`--input: cannot read ${file}: ${(error as Error).message}`, ExitCode.Usage);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--input: ${file} is not JSON: ${(error as Error).message}`, ExitCode.Usage);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CliError(`--input: ${file} must hold one JSON object (the workflow's input)`, ExitCode.Usage);
  return value as Record<string, unknown>;
}

/** "incidentId (--incident): is required; mode (--mode): must be …" — field and flag, for a person at a terminal. */
export function describeInputProblems(entry: ScenarioEntry, error: z.ZodError): string {
  const fields = inputFields(entry.input);
  const named = (field: string) => `${field}${flagFor(entry, field) ? ` (${flagFor(entry, field)})` : ''}`;
  return error.issues
    .map((issue) => {
      if (issue.code === 'unrecognized_keys' && issue.path.length === 0) return issue.keys.map((key) => unknownFieldProblem(key, fields, named)).join('; ');
      const field = issue.path.join('.') || '(input)';
      const flag = issue.path.length === 1 ? flagFor(entry, String(issue.path[0])) : undefined;
      return `${field}${flag ? ` (${flag})` : ''}: ${issue.message}`;
    })
    .join('; ');
}

/**
 * The input a scenario is started with: its defaults, then the --input file, then the flags given;
 * validated with the workflow's own schema, so a bad input is refused here and nothing is started.
 */
export function buildScenarioInput(entry: ScenarioEntry, options: StartOptions, flagValues: Record<string, unknown>): unknown {
  const raw: Record<string, unknown> = { ...entry.defaults, ...(options.input ? readInputFile(options.input) : {}) };
  for (const mapping of entry.flags) {
    const attribute = new Option(mapping.flag).attributeName();
    const value = flagValues[attribute];
    if (value === undefined) continue;
    raw[mapping.field] = mapping.parse && typeof value === 'string' ? mapping.parse(value) : value;
  }
  const parsed = entry.input.safeParse(raw);
  if (!parsed.success) throw new CliError(`invalid input for ${entry.name} (${entry.workflowType}): ${describeInputProblems(entry, parsed.error)}; nothing was started`, ExitCode.Usage);
  return parsed.data;
}

function registerScenario(start: Command, entry: ScenarioEntry): void {
  const command = start.command(entry.name).description(`${entry.description} (workflow ${entry.workflowType})`);
  for (const mapping of entry.flags) command.addOption(new Option(mapping.flag, mapping.description));
  command
    .option('--input <file>', 'read the input from a JSON file (flags given as well override its fields)')
    .option('--workflow-id <id>', 'workflow id to use instead of the generated one')
    .option('--wait', 'wait for the result and print it')
    .action(async (options: StartOptions) => {
      const input = buildScenarioInput(entry, options, options);
      await withTemporal(async ({ client, settings }) => {
        const handle =
          entry.kind === 'runbook'
            ? await startRunbook(client, { workflowType: entry.workflowType, scenario: entry.name, input: input as never, taskQueue: settings.taskQueue, workflowId: options.workflowId })
            : await client.workflow.start(entry.workflowType, { taskQueue: settings.taskQueue, workflowId: options.workflowId ?? `${entry.name}-${randomUUID()}`, args: [input] });
        console.log(`started ${handle.workflowId}`);
        console.log(`Web UI: ${webUiLink(settings.namespace, handle.workflowId, handle.firstExecutionRunId)}`);
        if (entry.kind === 'runbook') console.log(`follow it: dr status ${handle.workflowId} --watch`);
        if (options.wait) console.log(JSON.stringify(await handle.result(), null, 2));
      });
    });
}

export function registerStartCommands(program: Command, table: ScenarioEntry[] = scenarios): void {
  const start = program
    .command('start')
    .description(`start a runbook: ${table.map((s) => s.name).join(', ')} (each validates its input before anything starts)`);
  for (const entry of table) registerScenario(start, entry);
}

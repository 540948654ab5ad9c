import { ApplicationFailure } from '@temporalio/common';
import type { RunbookResult } from '../../contracts/runbook-status';
import type { ObjectStore } from '../ports/object-store';
import { noOperationsMetrics, type OperationsMetrics } from '../ports/operations-metrics';
import { runbookMeasurements } from '../monitoring/runbook-measurements';
import { renderRunbookReport, reportExtrasFromOutput, SecretInReportError, type ReportExtras } from '../../contracts/report';
import { FailureType } from '../../contracts/failure-types';

export interface PublishRunbookReportInput {
  workflowId: string;
  result: RunbookResult;
  /** Default: the `reconciliation`, `validation` and `instances` fields of `result.output`, when it has them. */
  extras?: ReportExtras;
}

/** Where a runbook's report lives in the ObjectStore; the `dr report` command reads the same keys. */
export function reportKeys(workflowId: string): { markdown: string; json: string } {
  // Workflow ids may hold '/' or spaces; a key must stay one path segment.
  const name = encodeURIComponent(workflowId);
  return { markdown: `reports/${name}.md`, json: `reports/${name}.json` };
}

/**
 * The report activity, over the ObjectStore the worker wired (a directory locally, S3 in the cloud). Every
 * run ends here, so it also hands the run's measurements (RTO, RPO, drill verdict, gate waits) to the
 * metrics: no extra activity, no extra history events.
 */
export function createReportActivities(objectStore: ObjectStore, metrics: OperationsMetrics = noOperationsMetrics) {
  return {
    /** Renders the runbook's report and writes reports/<workflowId>.md and .json. Idempotent: a retry rewrites the same objects. */
    async publishRunbookReport(input: PublishRunbookReportInput): Promise<{ markdownKey: string; jsonKey: string }> {
      // Recorded once per workflow id, whether or not the report can be written; never a reason to fail it.
      try {
        metrics.runbookMeasured(input.workflowId, runbookMeasurements(input.result));
      } catch {
        // a result too malformed to measure is still reported (and the renderer says what is wrong with it)
      }
      let rendered;
      try {
        rendered = renderRunbookReport(input.result, input.extras ?? reportExtrasFromOutput(input.result.output));
      } catch (error) {
        if (error instanceof SecretInReportError) throw ApplicationFailure.create({ type: FailureType.SecretInReport, message: error.message, nonRetryable: true });
        throw error;
      }
      const keys = reportKeys(input.workflowId);
      // JSON first: a reader that finds the Markdown can count on the JSON being there too.
      await objectStore.put(keys.json, `${JSON.stringify(rendered.json, null, 2)}\n`, 'application/json');
      await objectStore.put(keys.markdown, rendered.markdown, 'text/markdown; charset=utf-8');
      return { markdownKey: keys.markdown, jsonKey: keys.json };
    },
  };
}

export type ReportActivities = ReturnType<typeof createReportActivities>;
export { renderRunbookReport, reportExtrasFromOutput, assertNoConnectionSecrets, formatDuration, SecretInReportError } from '../../contracts/report';
export type { ReportExtras, RenderedReport, RunbookReportJson, ValidationLine } from '../../contracts/report';

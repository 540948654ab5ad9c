// Every workflow type the worker registers; these names are what the Web UI and the CLI start.
export { assessDatabaseHealth } from './assess-database-health';
export { recoverFromAccidentalDeletion } from './recover-from-accidental-deletion';
export { runDrill } from './run-drill';
export { recoverFromRegionOutage } from './recover-from-region-outage';
export { recoverFromFailedMigration } from './recover-from-failed-migration';
export { recoverFromServerFailure } from './recover-from-server-failure';
export { recoverCache } from './recover-cache';
export { recoverFiles } from './recover-files';
export { recoverFromCompleteSystemFailure } from './recover-from-complete-system-failure';
export { verifyAuditTrail, verifyAuditTrails } from './verify-audit-trail';

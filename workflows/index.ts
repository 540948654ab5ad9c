// Every workflow type the worker registers; these names are what the Web UI and the CLI start.
export { assessDatabaseHealth } from './assess-database-health';
export { recoverFromAccidentalDeletion } from './recover-from-accidental-deletion';
export { recoverFromServerFailure } from './recover-from-server-failure';

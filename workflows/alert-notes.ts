import { defineSignal, setHandler } from '@temporalio/workflow';
import { alertNoteRefusal, describeAlertLabels, type AlertNote } from '../contracts/alert-note';
import type { AuditTrail } from './audit-trail';
import type { Timeline } from './timeline';

/** The alert receiver's note on the runbook an alert started (worker/alert-receiver.ts sends it). */
export const alertSignal = defineSignal<[AlertNote]>('alert');

/** Who the trail names for a note: the receiver is the only sender, and a name in a payload would prove nothing. */
const actor = 'alertmanager';

/**
 * Records the note on the timeline and in the audit trail, and nothing else: the runbook goes on as it
 * was, every gate still in place. A malformed note is refused and recorded, never fatal.
 */
export function registerAlertNotes(timeline: Timeline, audit: AuditTrail, batched: boolean): void {
  setHandler(alertSignal, (note) => {
    const refusal = alertNoteRefusal(note);
    if (refusal) {
      timeline.add({ step: 'alert signal', outcome: 'refused', detail: refusal }, true);
      audit.record(actor, 'alert-note-refused', { reason: refusal });
    } else {
      const labels = describeAlertLabels(note.labels);
      const when = note.status === 'resolved' ? (note.endsAt ? `, ended ${note.endsAt}` : '') : note.startsAt ? `, firing since ${note.startsAt}` : '';
      const what = note.status === 'resolved' ? 'Alertmanager reports the alert resolved; the runbook goes on and its gates still decide' : 'Alertmanager reports the alert still firing';
      timeline.add({ step: `alert ${note.alertname} ${note.status}`, outcome: 'notified', detail: `${what} (${labels}${when})` }, true);
      audit.record(actor, `alert-${note.status}`, { alertname: note.alertname, labels, ...(note.startsAt ? { startsAt: note.startsAt } : {}), ...(note.endsAt ? { endsAt: note.endsAt } : {}) });
    }
    if (!batched) audit.writeInBackground();
  });
}

import { defineSignal, patched, setHandler } from '@temporalio/workflow';
import { alertNoteRefusal, describeAlertLabels, type AlertNote } from '../contracts/alert-note';
import type { AuditTrail } from './audit-trail';
import type { Timeline } from './timeline';

/** The alert receiver's note on the runbook an alert started (worker/alert-receiver.ts sends it). */
export const alertSignal = defineSignal<[AlertNote]>('alert');

/**
 * The history shape of every run since alert notes are capped: past this many (an alert storm, or anyone
 * with signal rights) a note is counted, not recorded, so a flood cannot fill the timeline and the trail.
 */
export const ALERT_NOTES_CAP_PATCH = 'alert-notes-capped';
export const MAX_RECORDED_ALERT_NOTES = 50;

/** Who the trail names for a note: the receiver is the only sender, and a name in a payload would prove nothing. */
const actor = 'alertmanager';

/**
 * Records the note on the timeline and in the audit trail, and nothing else: the runbook goes on as it
 * was, every gate still in place. A malformed note is refused and recorded, never fatal; past
 * MAX_RECORDED_ALERT_NOTES, notes are only counted.
 */
/** Returns how many notes were counted and not recorded (past the cap), for the runbook's end. */
export function registerAlertNotes(timeline: Timeline, audit: AuditTrail, batched: boolean): () => number {
  let recorded = 0;
  let unrecorded = 0;
  setHandler(alertSignal, (note) => {
    if (recorded >= MAX_RECORDED_ALERT_NOTES && patched(ALERT_NOTES_CAP_PATCH)) {
      if (unrecorded++ === 0) {
        timeline.add({ step: 'alert notes', outcome: 'refused', detail: `${MAX_RECORDED_ALERT_NOTES} alert notes recorded; further ones are counted, not recorded one by one` }, true);
        audit.record(actor, 'alert-notes-capped', { recorded });
      }
      return;
    }
    recorded++;
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
  return () => unrecorded;
}

// The "Fila" view model: queue items from GET /queue → rows the panel renders (pure, unit-tested).

import { formatWait, formatDue } from '../shared/time-format.js';

const MOODS = new Set(['negative', 'neutral', 'positive']);

/**
 * @param {Array<object>} items GET /queue items, already in the server's order
 * @param {{lang?: string, now?: Date, timeZone?: string}} [opts]
 */
export function queueRows(items, { lang = 'pt_BR', now = new Date(), timeZone } = {}) {
  return (items ?? []).map((item) => {
    const waiting = Number.isFinite(item.waiting_seconds) ? item.waiting_seconds : null;
    const sla = Number.isFinite(item.sla_first_response_seconds) ? item.sla_first_response_seconds : null;
    const f = item.followup ?? null;
    return {
      id: item.conversation_id,
      title: item.title || '—',
      kind: waiting === null ? 'followup' : 'waiting',
      waitText: waiting === null ? '' : formatWait(waiting, lang),
      slaText: sla === null ? '' : formatWait(sla, lang),
      overdue: Boolean(item.overdue),
      // Past half of the SLA: a warning colour before the overdue one.
      nearSla: !item.overdue && waiting !== null && sla !== null && item.customer_waiting !== false && waiting >= sla / 2,
      mood: MOODS.has(item.sentiment) ? item.sentiment : null,
      transferNote: item.transfer_note ?? null,
      followup: f ? { id: f.id, note: f.note ?? '', dueText: formatDue(f.due_at, now, lang, timeZone) } : null,
    };
  });
}

/** Text of the badge on the extension's icon: '' for none, '99+' past 99. */
export function badgeText(count) {
  const n = Number(count) || 0;
  if (n <= 0) return '';
  return n > 99 ? '99+' : String(n);
}

/** Badge colour: red when a customer waits past the SLA, else the brand green. */
export function badgeColor(items) {
  return (items ?? []).some((i) => i.overdue) ? '#d93025' : '#128c7e';
}

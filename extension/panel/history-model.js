// The "Histórico" tab model: periods from GET /contacts/{id}/history → what the panel draws,
// including the sparkline of sentiment over time (pure, unit-tested).

import { formatDay } from '../shared/time-format.js';

const VALUE = { negative: -1, neutral: 0, positive: 1 };

/** Points of an SVG polyline for sentiment readings (oldest first), in a width×height box. */
export function sparkline(readings, width = 80, height = 18) {
  const values = (readings ?? [])
    .map((r) => (Number.isFinite(r?.score) ? Math.max(-1, Math.min(1, r.score)) : VALUE[r?.label]))
    .filter((v) => v !== undefined && Number.isFinite(v));
  if (!values.length) return '';
  const step = values.length > 1 ? width / (values.length - 1) : 0;
  return values
    .map((v, i) => `${Math.round(i * step * 10) / 10},${Math.round(((1 - v) / 2) * (height - 2) * 10) / 10 + 1}`)
    .join(' ');
}

export function periodView(p, lang = 'pt_BR', timeZone = undefined) {
  const start = formatDay(p.started_at, lang, timeZone);
  const end = p.ended_at ? formatDay(p.ended_at, lang, timeZone) : null;
  return {
    id: `${p.conversation_id}:${p.started_at}`,
    range: end && end !== start ? `${start} – ${end}` : start,
    open: !p.ended_at,
    summary: p.summary || '',
    sentiment: p.sentiment ?? null,
    intent: p.intent ?? null,
    points: sparkline(p.sentiments),
    messages: p.messages ?? 0,
    transfers: (p.transfers ?? []).map((t) => ({ note: t.note || '', at: formatDay(t.at, lang, timeZone) })),
    stages: (p.stage_changes ?? []).map((s) => s.stage),
    followups: (p.followups ?? []).map((f) => ({ note: f.note || '', done: Boolean(f.done), due: formatDay(f.due_at, lang, timeZone) })),
  };
}

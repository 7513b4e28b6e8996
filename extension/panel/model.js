// Pure helpers of the side panel (no DOM, no extension APIs), unit-tested in node.

import { parseMoney } from '../shared/time-format.js';

export const SENTIMENTS = ['negative', 'neutral', 'positive'];
export const INTENTS = [
  'purchase_pricing', 'support_technical', 'complaint', 'scheduling',
  'cancellation', 'order_status', 'greeting_smalltalk', 'other',
];
export const STAGES = ['lead', 'qualified', 'proposal', 'won', 'lost'];

/** The last analyses as bars: {label, height (4–22 px), when}, oldest first, at most `max`. */
export function trendBars(history, max = 12) {
  return (history ?? [])
    .filter((h) => h?.sentiment?.label)
    .slice(-max)
    .map((h) => {
      const score = Number.isFinite(h.sentiment.score) ? Math.max(-1, Math.min(1, h.sentiment.score)) : 0;
      return { label: h.sentiment.label, height: Math.round(4 + ((score + 1) / 2) * 18), when: h.created_at ?? '' };
    });
}

/** The titles of the passages a suggestion cites, once each and at most `max`, for the line
 * "fonte: …" under it (none for a suggestion that cites nothing). */
export function citationTitles(suggestion, max = 3) {
  const titles = [];
  for (const c of suggestion?.citations ?? []) {
    const title = typeof c?.title === 'string' ? c.title.trim() : '';
    if (title && !titles.includes(title)) titles.push(title);
  }
  return titles.slice(0, max);
}

/** Text of the customer's latest message in a conversation (for context), or null. */
export function lastCustomerMessage(conversation) {
  const msgs = conversation?.messages ?? [];
  for (let i = msgs.length - 1; i >= 0; i -= 1) {
    if (msgs[i].direction === 'in' && msgs[i].kind !== 'system' && msgs[i].text) return msgs[i].text;
  }
  return null;
}

/** The PATCH body for the contact card: only the fields that changed, typed for the API. */
export function contactChanges(contact, form, lang = 'pt_BR') {
  const out = {};
  const name = form.name.trim();
  if (name && name !== (contact.name ?? '')) out.name = name;
  if (form.stage && form.stage !== contact.stage) out.stage = form.stage;
  const value = parseMoney(form.value, lang); // "1.234,56" in pt-BR, "1,234.56" in en
  if (value === null || Number.isFinite(value)) {
    if (value !== (contact.value ?? null)) out.value = value;
  }
  const tags = [...new Set(String(form.tags ?? '').split(',').map((s) => s.trim()).filter(Boolean))].map((s) => s.slice(0, 50));
  const before = [...(contact.tags ?? [])].sort().join('\u0000');
  if ([...tags].sort().join('\u0000') !== before) out.tags = tags;
  if ((form.notes ?? '') !== (contact.notes ?? '')) out.notes = form.notes;
  return out;
}

/** Existing tags that complete the fragment after the last comma (not already chosen), at most `max`. */
export function tagCompletions(input, known, max = 6) {
  const parts = String(input ?? '').split(',');
  const fragment = parts.pop().trim().toLocaleLowerCase();
  const chosen = new Set(parts.map((p) => p.trim().toLocaleLowerCase()).filter(Boolean));
  if (!fragment) return [];
  return (known ?? [])
    .filter((tag) => tag.toLocaleLowerCase().startsWith(fragment) && !chosen.has(tag.toLocaleLowerCase()))
    .slice(0, max);
}

/** The tags input after choosing `tag` for the fragment being typed. */
export function completeTag(input, tag) {
  const parts = String(input ?? '').split(',').map((p) => p.trim());
  parts.pop();
  return [...parts.filter(Boolean), tag].join(', ') + ', ';
}

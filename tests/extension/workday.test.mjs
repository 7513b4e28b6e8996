// The attendant's day, pure parts and the worker's alarms: the queue view model, pt-BR/en
// time and money formatting, the keyboard handler, tag completion, the history sparkline,
// opening a chat by title on the fixture pages, and follow-up notifications from alarms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { queueRows, badgeText, badgeColor } from '../../extension/panel/queue-model.js';
import { sparkline, periodView } from '../../extension/panel/history-model.js';
import { contactChanges, tagCompletions, completeTag } from '../../extension/panel/model.js';
import { shortcutOf, SHORTCUTS } from '../../extension/shared/keyboard.js';
import {
  formatWait, formatDue, formatDay, formatMoney, parseMoney, quickDue, isoWithOffset, langOf,
} from '../../extension/shared/time-format.js';
import { findChatRow, openChat } from '../../extension/content/features/open-chat.js';
import { SEARCH_BOX } from '../../extension/content/whatsapp/selectors.js';
import { createWorkday, POLL_ALARM } from '../../extension/background/workday.js';
import { createApi } from '../../extension/background/api.js';
import { createTokenStore } from '../../extension/background/tokens.js';
import { documentFor, loadFixtures } from './helpers/dom.mjs';
import { fakeArea, fakeFetch, json } from './helpers/fakes.mjs';

const NBSP = /\u00a0|\u202f/g;
const squash = (s) => s.replace(NBSP, ' ');

test('waits in pt-BR and en', () => {
  assert.equal(formatWait(20, 'pt_BR'), 'agora');
  assert.equal(formatWait(20, 'en'), 'now');
  assert.equal(formatWait(7 * 60 + 59, 'pt_BR'), '7 min');
  assert.equal(formatWait(3900, 'pt_BR'), '1 h 05 min');
  assert.equal(formatWait(86400, 'pt_BR'), '1 dia');
  assert.equal(formatWait(2 * 86400 + 3 * 3600, 'pt_BR'), '2 dias 3 h');
  assert.equal(formatWait(2 * 86400 + 3 * 3600, 'en'), '2 days 3 h');
  assert.equal(formatWait(null, 'en'), 'now');
  assert.equal(langOf('pt-BR'), 'pt_BR');
  assert.equal(langOf('en-US'), 'en');
});

test('due times: today, tomorrow, a date — pt-BR 24 h, en 12 h', () => {
  const tz = 'America/Sao_Paulo';
  const now = new Date('2026-03-10T12:00:00-03:00');
  assert.equal(formatDue('2026-03-10T14:30:00-03:00', now, 'pt_BR', tz), 'hoje 14:30');
  assert.equal(formatDue('2026-03-11T09:00:00-03:00', now, 'pt_BR', tz), 'amanhã 09:00');
  assert.equal(formatDue('2026-03-12T09:00:00-03:00', now, 'pt_BR', tz), '12/03 09:00');
  assert.equal(squash(formatDue('2026-03-10T14:30:00-03:00', now, 'en', tz)), 'today 02:30 PM');
  assert.equal(squash(formatDue('2026-03-12T09:00:00-03:00', now, 'en', tz)), 'Mar 12, 09:00 AM');
  assert.equal(formatDay('2026-03-10T14:30:00-03:00', 'pt_BR', tz), '10/03/2026');
  assert.equal(formatDay('2026-03-10T14:30:00-03:00', 'en', tz), 'Mar 10, 2026');
  assert.equal(formatDue('not a date', now, 'pt_BR', tz), '');
});

test('R$ values: pt-BR and en formats, parsed back', () => {
  assert.equal(squash(formatMoney(1234.5, 'pt_BR')), 'R$ 1.234,50');
  assert.equal(formatMoney(1234.5, 'en'), 'R$1,234.50');
  assert.equal(formatMoney(null, 'pt_BR'), '');
  assert.equal(parseMoney('1.234,56', 'pt_BR'), 1234.56);
  assert.equal(parseMoney('R$ 250', 'pt_BR'), 250);
  assert.equal(parseMoney('250,5', 'pt_BR'), 250.5);
  assert.equal(parseMoney('250.5', 'pt_BR'), 250.5); // a dot before 1–2 digits is a decimal
  assert.equal(parseMoney('1.234', 'pt_BR'), 1234);
  assert.equal(parseMoney('1,234.56', 'en'), 1234.56);
  assert.equal(parseMoney('', 'pt_BR'), null);
  assert.ok(Number.isNaN(parseMoney('-3', 'pt_BR')));
  assert.ok(Number.isNaN(parseMoney('abc', 'en')));
  const c = { name: 'A', stage: 'lead', value: null, tags: [], notes: '' };
  assert.deepEqual(contactChanges(c, { name: 'A', stage: 'lead', value: '1.234,50', tags: '', notes: '' }), { value: 1234.5 });
  assert.deepEqual(contactChanges(c, { name: 'A', stage: 'lead', value: '1,234.50', tags: '', notes: '' }, 'en'), { value: 1234.5 });
});

test('Lembrar quick choices and the ISO time with offset sent to the server', () => {
  const now = new Date(2026, 2, 10, 22, 15, 0);
  assert.equal(quickDue('1h', now).getTime() - now.getTime(), 3_600_000);
  assert.equal(quickDue('2d', now).getTime() - now.getTime(), 2 * 86_400_000);
  const tomorrow = quickDue('tomorrow9', now);
  assert.deepEqual([tomorrow.getDate(), tomorrow.getHours(), tomorrow.getMinutes()], [11, 9, 0]);
  const iso = isoWithOffset(now);
  assert.match(iso, /^2026-03-10T22:15:00[+-]\d\d:\d\d$/);
  assert.equal(new Date(iso).getTime(), now.getTime());
  assert.throws(() => quickDue('someday', now));
});

test('queue view model: wait against the SLA, colours, mood, notes, follow-ups', () => {
  const now = new Date('2026-03-10T12:00:00-03:00');
  const items = [
    { conversation_id: 'c1', title: 'Alice', status: 'open', waiting_seconds: 2400, sentiment: 'neutral',
      sla_first_response_seconds: 600, overdue: true, customer_waiting: true, transfer_note: 'VIP <b>x</b>' },
    { conversation_id: 'c2', title: 'Carla', status: 'open', waiting_seconds: 360, sentiment: 'negative',
      sla_first_response_seconds: 600, overdue: false, customer_waiting: true },
    { conversation_id: 'c3', title: '', status: 'pending', waiting_seconds: 60, sentiment: 'weird',
      sla_first_response_seconds: 600, overdue: false, customer_waiting: true },
    { conversation_id: 'c4', title: 'Fabi', status: 'open', waiting_seconds: null, sentiment: null,
      sla_first_response_seconds: 600, overdue: false,
      followup: { id: 'f1', due_at: '2026-03-10T11:00:00-03:00', note: 'Ligar' } },
  ];
  const rows = queueRows(items, { lang: 'pt_BR', now, timeZone: 'America/Sao_Paulo' });
  assert.deepEqual(rows.map((r) => r.id), ['c1', 'c2', 'c3', 'c4']); // the server's order is kept
  assert.deepEqual(rows.map((r) => [r.waitText, r.overdue, r.nearSla]),
    [['40 min', true, false], ['6 min', false, true], ['1 min', false, false], ['', false, false]]);
  assert.equal(rows[0].slaText, '10 min');
  assert.equal(rows[0].transferNote, 'VIP <b>x</b>'); // text, shown with textContent
  assert.deepEqual(rows.map((r) => r.mood), ['neutral', 'negative', null, null]);
  assert.equal(rows[2].title, '—');
  assert.deepEqual([rows[3].kind, rows[3].followup], ['followup', { id: 'f1', note: 'Ligar', dueText: 'hoje 11:00' }]);
  assert.equal(queueRows(items, { lang: 'en', now, timeZone: 'America/Sao_Paulo' })[0].waitText, '40 min');
  assert.deepEqual([badgeText(0), badgeText(7), badgeText(120)], ['', '7', '99+']);
  assert.equal(badgeColor(items), '#d93025');
  assert.equal(badgeColor(items.slice(1)), '#128c7e');
});

test('keyboard: Alt+1..3 insert, Alt+R resolve, Alt+F queue; other chords left alone', () => {
  const key = (code, extra = {}) => ({ code, altKey: true, ctrlKey: false, metaKey: false, shiftKey: false, ...extra });
  assert.deepEqual(shortcutOf(key('Digit1')), { action: 'insert', index: 0 });
  assert.deepEqual(shortcutOf(key('Digit3')), { action: 'insert', index: 2 });
  assert.deepEqual(shortcutOf(key('Numpad2')), { action: 'insert', index: 1 });
  assert.deepEqual(shortcutOf(key('KeyR')), { action: 'resolve' });
  assert.deepEqual(shortcutOf(key('KeyF')), { action: 'queue' });
  assert.equal(shortcutOf(key('Digit4')), null);
  assert.equal(shortcutOf(key('KeyR', { ctrlKey: true })), null); // AltGr on Windows
  assert.equal(shortcutOf(key('KeyR', { metaKey: true })), null);
  assert.equal(shortcutOf(key('KeyR', { shiftKey: true })), null);
  assert.equal(shortcutOf(key('KeyR', { repeat: true })), null);
  assert.equal(shortcutOf(key('KeyR', { isComposing: true })), null);
  assert.equal(shortcutOf({ code: 'KeyR', altKey: false }), null);
  assert.equal(shortcutOf(null), null);
  assert.deepEqual(SHORTCUTS.map((s) => s.keys), ['Alt+1', 'Alt+2', 'Alt+3', 'Alt+R', 'Alt+F']);
});

test('tags: completion from existing tags after the last comma', () => {
  const known = ['vip', 'Vestido', 'atacado', 'vendido'];
  assert.deepEqual(tagCompletions('ve', known), ['Vestido', 'vendido']);
  assert.deepEqual(tagCompletions('vestido, v', known), ['vip', 'vendido']);
  assert.deepEqual(tagCompletions('vip, ', known), []);
  assert.equal(completeTag('vip, ves', 'Vestido'), 'vip, Vestido, ');
});

test('history: sparkline points and the period view', () => {
  assert.equal(sparkline([]), '');
  assert.equal(sparkline([{ label: 'positive', score: 1 }, { label: 'negative', score: -1 }], 80, 18), '0,1 80,17');
  assert.equal(sparkline([{ label: 'neutral' }]), '0,9');
  const v = periodView({
    conversation_id: 'c', started_at: '2026-03-01T10:00:00+00:00', ended_at: '2026-03-02T10:00:00+00:00',
    summary: 'S', sentiment: 'negative', intent: 'complaint', messages: 4,
    sentiments: [{ label: 'neutral', score: 0 }, { label: 'negative', score: -0.8 }],
    transfers: [{ at: '2026-03-01T11:00:00+00:00', note: 'n' }], stage_changes: [{ stage: 'proposal' }],
    followups: [{ due_at: '2026-03-05T09:00:00+00:00', done: true, note: 'x' }],
  }, 'pt_BR', 'UTC');
  assert.equal(v.range, '01/03/2026 – 02/03/2026');
  assert.equal(v.open, false);
  assert.deepEqual([v.stages, v.followups[0].done, v.transfers[0].note], [['proposal'], true, 'n']);
  assert.equal(periodView({ conversation_id: 'c', started_at: '2026-03-01T10:00:00+00:00', ended_at: null }, 'en', 'UTC').open, true);
});

test('open chat by title: the chat-list row on every fixture; the search box otherwise', async () => {
  for (const { name, html, expected } of loadFixtures()) {
    const doc = documentFor(html);
    const row = findChatRow(doc, `  ${expected.chat.title.toUpperCase()} `);
    assert.ok(row, `${name}: row of ${expected.chat.title}`);
    assert.ok(doc.querySelector(SEARCH_BOX[0]) || doc.querySelector(SEARCH_BOX[1]), `${name}: search box`);
    let pressed = null;
    row.addEventListener('mousedown', () => { pressed = expected.chat.title; });
    assert.deepEqual(await openChat(doc, expected.chat.title), { ok: true, searched: false });
    assert.equal(pressed, expected.chat.title);
  }
  const doc = documentFor(loadFixtures()[0].html);
  const typed = [];
  doc.execCommand = (cmd, _ui, value) => { if (cmd === 'insertText') typed.push(value); return true; };
  const out = await openChat(doc, 'Nobody Here', { wait: 200, step: 50 });
  assert.deepEqual(out, { ok: false, reason: 'not_found', searched: true });
  assert.deepEqual(typed, ['Nobody Here']); // typed into the search box, nothing else
  assert.equal(doc.activeElement, doc.querySelector(SEARCH_BOX[0]));
});

function fakeExt() {
  const alarms = new Map();
  const shown = new Map();
  const cleared = [];
  return {
    alarms: {
      async create(name, info) { alarms.set(name, { name, ...info }); },
      async get(name) { return alarms.get(name); },
      async getAll() { return [...alarms.values()]; },
      async clear(name) { return alarms.delete(name); },
    },
    notifications: {
      async create(id, options) { shown.set(id, options); return id; },
      async clear(id) { cleared.push(id); return shown.delete(id); },
    },
    action: { badge: null, color: null, async setBadgeText({ text }) { this.badge = text; }, async setBadgeBackgroundColor({ color }) { this.color = color; } },
    i18n: { getMessage: (key, subs) => (subs ? `${key}:${[].concat(subs).join('|')}` : key) },
    runtime: { getURL: (p) => `chrome-extension://x/${p}` },
    state: { alarms, shown, cleared },
  };
}

test('follow-ups: an alarm at the due time raises a notification; done and snooze from its buttons', async () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  const ext = fakeExt();
  const due = { id: 'f1', conversation_id: 'c1', title: 'Alice', note: 'Ligar <b>', due_at: '2026-03-10T12:00:02+00:00', done: false };
  const { fetch, calls } = fakeFetch(({ method, path, body }) => {
    if (path.endsWith('/queue')) return json(200, { items: [{ overdue: true }], count: 3 });
    if (path.includes('/followups?done=false')) return json(200, { items: [due] });
    if (method === 'PATCH') return json(200, { ...due, ...(body.done ? { done: true } : { due_at: body.due_at }) });
    return json(404, { error: { code: 'not_found', message: 'no' } });
  });
  const tokens = createTokenStore({ session: fakeArea({}), local: fakeArea({}) });
  await tokens.set({ access_token: 'a', refresh_token: 'r', expires_in: 900 }, now);
  const api = createApi({ fetch, tokens, serverUrl: async () => 'http://127.0.0.1:9', now: () => now });
  const area = fakeArea();
  const wd = createWorkday({ api, ext, area, sendToTab: async () => ({}), now: () => now });

  await wd.start();
  assert.equal(ext.state.alarms.get(POLL_ALARM).periodInMinutes, 1);
  await wd.onAlarm({ name: POLL_ALARM });
  assert.equal(ext.action.badge, '3');
  assert.equal(ext.action.color, '#d93025');
  assert.equal(ext.state.alarms.get('followup:f1').when, Date.parse(due.due_at));

  await wd.onAlarm({ name: 'followup:f1' });
  const shown = ext.state.shown.get('followup:f1');
  assert.equal(shown.title, 'followupDueTitle:Alice');
  assert.equal(shown.message, 'Ligar <b>');
  assert.deepEqual(shown.buttons.map((b) => b.title), ['followupDone', 'followupSnooze']);

  await wd.onButton('followup:f1', 1); // snooze: an hour later, alarm moved
  const snooze = calls.find((c) => c.method === 'PATCH');
  assert.equal(Date.parse(snooze.body.due_at), now + 3_600_000);
  assert.equal(ext.state.alarms.get('followup:f1').when, now + 3_600_000);
  await wd.onButton('followup:f1', 0); // done: alarm gone
  assert.deepEqual(calls.filter((c) => c.method === 'PATCH').at(-1).body, { done: true });
  assert.equal(ext.state.alarms.has('followup:f1'), false);
  assert.deepEqual(ext.state.cleared, ['followup:f1', 'followup:f1']);
});

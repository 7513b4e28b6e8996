// Scraper: exact captures on every fixture, plus the cases the fixtures leave out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { documentFor, loadFixtures } from './helpers/dom.mjs';
import { generateChat } from './helpers/chat-generator.mjs';
import { readActiveChat, MAX_MESSAGES, MAX_TEXT } from '../../extension/content/whatsapp/scrape.js';

const fixtures = loadFixtures();
const byName = (name) => fixtures.find((f) => f.name === name);

test('every fixture with an .expected.json is covered (at least the shared two and ours)', () => {
  const names = fixtures.map((f) => f.name);
  for (const n of ['chat_ptbr_1to1.html', 'chat_ptbr_1to1_bareid.html', 'chat_ptbr_group.html', 'chat_enus_1to1_lid.html']) {
    assert.ok(names.includes(n), `${n} missing`);
  }
});

for (const f of fixtures) {
  test(`fixture ${f.name}: capture equals ${f.name.replace(/\.html$/, '.expected.json')}`, () => {
    const got = readActiveChat(documentFor(f.html));
    assert.deepEqual(got, { chat: f.expected.chat, messages: f.expected.messages });
  });
}

test('reading does not change the page', () => {
  const doc = documentFor(byName('chat_ptbr_group.html').html);
  const before = doc.documentElement.outerHTML;
  readActiveChat(doc);
  assert.equal(doc.documentElement.outerHTML, before);
});

test('no chat open (no #main, no message list) gives null', () => {
  const doc = documentFor(byName('chat_ptbr_1to1.html').html);
  doc.getElementById('main').remove();
  assert.equal(readActiveChat(doc), null);
});

test('an open chat with no messages yet gives its chat and no messages', () => {
  const doc = documentFor(byName('chat_ptbr_1to1.html').html);
  doc.querySelectorAll('#main [role="row"]').forEach((r) => r.remove());
  assert.deepEqual(readActiveChat(doc), {
    chat: { id: null, title: 'Mariana Costa', is_group: false, phone: null },
    messages: [],
  });
});

test('rows outside the open chat (#pane-side also has role=row) are never read', () => {
  const f = byName('chat_ptbr_1to1.html');
  const doc = documentFor(f.html);
  const stray = doc.createElement('div');
  stray.setAttribute('role', 'row');
  stray.appendChild(doc.createElement('div')).setAttribute('data-id', 'false_5511000000000@c.us_3AFFFFFFFFFFFFFFFFFF');
  doc.querySelector('#pane-side [role="grid"]').appendChild(stray);
  assert.deepEqual(readActiveChat(doc).messages, f.expected.messages);
});

test('group with bare ids: no JID, is_group from authors other than the title', () => {
  const f = byName('chat_ptbr_group.html');
  const doc = documentFor(f.html);
  const bare = (v) => v.replace(/^(true|false)_[^_]+_([^_]+)(_.*)?$/, '$2');
  doc.querySelectorAll('[data-id]').forEach((el) => el.setAttribute('data-id', bare(el.getAttribute('data-id'))));
  const got = readActiveChat(doc);
  assert.deepEqual(got.chat, { id: null, title: 'Encomenda Formatura 3ºB', is_group: true, phone: null });
  assert.deepEqual(got.messages, f.expected.messages.map((m) => ({ ...m, id: bare(m.id) })));
});

test('fallback rows: without role=row the bubbles are read (dates then come from data-pre-plain-text)', () => {
  const f = byName('chat_ptbr_1to1.html');
  const doc = documentFor(f.html);
  doc.querySelectorAll('#main [role="row"]').forEach((r) => r.removeAttribute('role'));
  assert.deepEqual(readActiveChat(doc), { chat: f.expected.chat, messages: f.expected.messages });
});

test('fallback container: message list without #main, title from the selected chat-list row', () => {
  const f = byName('chat_ptbr_1to1.html');
  const doc = documentFor(f.html);
  const main = doc.getElementById('main');
  main.removeAttribute('id');
  const got = readActiveChat(doc);
  assert.deepEqual(got, { chat: f.expected.chat, messages: f.expected.messages });
});

test('title fallback: header span[title] when the first span[dir=auto] is empty', () => {
  const doc = documentFor(byName('chat_ptbr_1to1.html').html);
  const span = doc.querySelector('#main header span[dir="auto"]');
  span.textContent = '';
  span.removeAttribute('dir');
  assert.equal(readActiveChat(doc).chat.title, 'Mariana Costa');
});

test('text fallback: [data-testid="selectable-text"] when the selectable-text class is gone', () => {
  const f = byName('chat_ptbr_1to1.html');
  const doc = documentFor(f.html);
  doc.querySelectorAll('#main span.selectable-text').forEach((s) => s.classList.remove('selectable-text'));
  assert.deepEqual(readActiveChat(doc).messages.map((m) => m.text), f.expected.messages.map((m) => m.text));
});

test('missing data-pre-plain-text: visible time + date of the previous divider, author from the label', () => {
  const f = byName('chat_ptbr_1to1.html');
  const doc = documentFor(f.html);
  doc.querySelectorAll('[data-pre-plain-text]').forEach((el) => el.removeAttribute('data-pre-plain-text'));
  const got = readActiveChat(doc);
  // Outgoing rows lose the own account name (nothing else in the DOM carries it).
  const expected = f.expected.messages.map((m) => ({ ...m, author: m.direction === 'out' ? null : m.author }));
  assert.deepEqual(got.messages, expected);
});

test('relative dividers (HOJE, ONTEM, weekday) resolve against `now`', () => {
  const doc = documentFor(byName('chat_ptbr_group.html').html);
  const dividers = [...doc.querySelectorAll('#main [role="row"]')].filter((r) => !r.querySelector('[data-id]'));
  const labels = ['SEGUNDA-FEIRA', 'ONTEM', 'HOJE'];
  dividers.forEach((d, i) => { d.querySelector('span').textContent = labels[i]; });
  // Thursday 12 March 2026: Monday = 9th, yesterday = 11th, today = 12th.
  const got = readActiveChat(doc, { now: new Date(2026, 2, 12, 15, 0) });
  const byId = (frag) => got.messages.find((m) => m.id.includes(frag));
  assert.equal(byId('3A8C1E2F4B6D8A0C1E23').timestamp, '2026-03-08T10:02:00'); // from data-pre-plain-text
  assert.equal(byId('3A9E8D7C6B5A49382716').timestamp, '2026-03-09T09:52:00'); // after a date-bearing message
  assert.equal(byId('3EB0F1E2D3C4B5A69788A7').timestamp, '2026-03-12T08:30:00'); // HOJE divider
});

test('an unreadable divider clears the date context instead of carrying a stale date', () => {
  const doc = documentFor(byName('chat_ptbr_group.html').html);
  const dividers = [...doc.querySelectorAll('#main [role="row"]')].filter((r) => !r.querySelector('[data-id]'));
  dividers[2].querySelector('span').textContent = 'MENSAGENS NÃO LIDAS';
  const voice = readActiveChat(doc).messages.find((m) => m.id.includes('3EB0F1E2D3C4B5A69788A7'));
  assert.equal(voice.timestamp, null);
});

test('a date component > 12 overrides the page language', () => {
  const doc = documentFor(byName('chat_enus_1to1_lid.html').html);
  doc.documentElement.setAttribute('lang', 'pt-BR'); // wrong language on purpose
  const got = readActiveChat(doc);
  // 3/14/2026 can only be M/D/Y, so the whole page (including the ambiguous 3/9) is read M/D/Y.
  assert.equal(got.messages[1].timestamp, '2026-03-09T21:58:00');
  assert.equal(got.messages[4].timestamp, '2026-03-14T00:05:00');
});

test('a bubble with neither text nor known media is kind "other" (video, sticker, document…)', () => {
  const doc = documentFor(byName('chat_ptbr_group.html').html);
  const row = doc.querySelector('[data-id*="3A5C7E9A1C3E5A7C9E1B"]');
  row.querySelectorAll('[role="slider"], button').forEach((el) => el.remove());
  const got = readActiveChat(doc).messages.find((m) => m.id.includes('3A5C7E9A1C3E5A7C9E1B'));
  assert.deepEqual(got, {
    id: row.getAttribute('data-id'), direction: 'in', author: 'Carlos Mendes',
    timestamp: '2026-03-09T09:53:00', text: null, kind: 'other',
  });
});

test('voice fallback hook: the English play button alone marks a voice note', () => {
  const doc = documentFor(byName('chat_enus_1to1_lid.html').html);
  doc.querySelectorAll('[role="slider"]').forEach((el) => el.remove());
  const kinds = readActiveChat(doc).messages.map((m) => m.kind);
  assert.equal(kinds.filter((k) => k === 'audio').length, 1);
});

test(`texts are cut to ${MAX_TEXT} characters (API limit) without splitting an emoji`, () => {
  const doc = documentFor(byName('chat_ptbr_1to1.html').html);
  const span = doc.querySelector('#main span.selectable-text > span');
  span.textContent = `${'a'.repeat(MAX_TEXT - 1)}😊 e mais`;
  const text = readActiveChat(doc).messages[0].text;
  assert.equal(text, 'a'.repeat(MAX_TEXT - 1));
});

test('generated 200-message chats (pt-BR/en-US, packed/bare ids) are read exactly', () => {
  for (const opts of [{}, { lang: 'en-US' }, { bareIds: true }, { lang: 'en-US', bareIds: true, seed: 3 }]) {
    const { html, expected } = generateChat(opts);
    const got = readActiveChat(documentFor(html));
    assert.equal(got.messages.length, 200);
    assert.deepEqual(got, expected, JSON.stringify(opts));
  }
});

test(`captures keep at most the last ${MAX_MESSAGES} messages (API limit)`, () => {
  const { html, expected } = generateChat({ count: MAX_MESSAGES + 20 });
  const got = readActiveChat(documentFor(html));
  assert.equal(got.messages.length, MAX_MESSAGES);
  assert.deepEqual(got.messages, expected.messages.slice(-MAX_MESSAGES));
});

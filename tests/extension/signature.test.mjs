// Change detection: post a capture only when the chat or its latest messages changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { documentFor, loadFixtures } from './helpers/dom.mjs';
import { readActiveChat } from '../../extension/content/whatsapp/scrape.js';
import { chatSignature, createChangeDetector, shortHash, SIGNATURE_WINDOW } from '../../extension/content/whatsapp/signature.js';

const capture = (id, title, messages) => ({ chat: { id, title, is_group: false, phone: null }, messages });
const msg = (id, text) => ({ id, direction: 'in', author: 'A', timestamp: null, text, kind: 'text' });

test('shortHash is short, stable and text-sensitive', () => {
  assert.match(shortHash('Oi'), /^[0-9a-f]{8}$/);
  assert.equal(shortHash('Oi'), shortHash('Oi'));
  assert.notEqual(shortHash('Oi'), shortHash('Oi!'));
});

test('signature: chat key (id, else title) + ids and text hashes of the last messages', () => {
  const msgs = Array.from({ length: 8 }, (_, i) => msg(`m${i}`, `t${i}`));
  const sig = chatSignature(capture('5511@c.us', 'Ana', msgs));
  const parts = sig.split('|');
  assert.equal(parts[0], 'id:5511@c.us');
  assert.equal(parts.length, 1 + SIGNATURE_WINDOW);
  assert.ok(parts[parts.length - 1].startsWith('m7:'));
  assert.ok(!sig.includes('m2:'), 'older messages are outside the window');
  assert.ok(!sig.includes('t7'), 'text is hashed, not copied');
  assert.ok(chatSignature(capture(null, 'Ana', msgs)).startsWith('title:Ana|'));
  assert.equal(chatSignature(null), '');
});

test('signature changes on a new message, an edited or deleted text, or another chat', () => {
  const base = Array.from({ length: SIGNATURE_WINDOW }, (_, i) => msg(`m${i}`, `texto ${i}`));
  const last = base.length - 1;
  const withLast = (m) => [...base.slice(0, last), m];
  const s = chatSignature(capture('1@c.us', 'Ana', base));
  assert.notEqual(s, chatSignature(capture('1@c.us', 'Ana', [...base, msg('c', 'Sim')])));
  assert.notEqual(s, chatSignature(capture('1@c.us', 'Ana', withLast(msg(`m${last}`, 'editado')))));
  assert.notEqual(s, chatSignature(capture('1@c.us', 'Ana', withLast({ ...base[last], text: null, kind: 'deleted' }))));
  assert.notEqual(s, chatSignature(capture('2@c.us', 'Ana', base)));
  // Older history scrolled into view does not change the tail: no new post.
  const longer = [msg('x', 'antiga'), ...base];
  assert.equal(chatSignature(capture('1@c.us', 'Ana', longer)), s);
});

test('change detector: true once per distinct state, false for repeats and for no chat', () => {
  const d = createChangeDetector();
  const [one, bare] = loadFixtures().filter((f) => f.name.startsWith('chat_ptbr_1to1'));
  const c1 = readActiveChat(documentFor(one.html));
  const c2 = readActiveChat(documentFor(bare.html));
  assert.equal(d.changed(null), false);
  assert.equal(d.changed(c1), true);
  assert.equal(d.changed(structuredClone(c1)), false);
  assert.equal(d.changed(c2), true, 'same chat without JID is keyed by title and other ids');
  assert.equal(d.changed(c1), true, 'switching back posts again');
  assert.equal(d.changed(null), false);
  assert.equal(d.changed(c1), false, 'closing and reopening the same state does not repost');
  d.reset();
  assert.equal(d.changed(c1), true);
});

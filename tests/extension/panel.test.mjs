// Pure parts of the side panel and of quick replies, and the server-URL rule.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trendBars, lastCustomerMessage, contactChanges, citationTitles } from '../../extension/panel/model.js';
import { fillTemplate, firstName, shortcutAtCaret, replaceShortcut } from '../../extension/content/features/quick-replies.js';
import { normaliseServerUrl, originPattern } from '../../extension/background/config.js';
import { documentFor } from './helpers/dom.mjs';

test('trend bars: last analyses, height from score, oldest first', () => {
  const history = [
    { sentiment: { label: 'negative', score: -1 }, created_at: 'a' },
    { sentiment: null },
    { sentiment: { label: 'positive', score: 1 }, created_at: 'b' },
  ];
  assert.deepEqual(trendBars(history), [
    { label: 'negative', height: 4, when: 'a' },
    { label: 'positive', height: 22, when: 'b' },
  ]);
  assert.equal(trendBars(Array.from({ length: 30 }, () => history[0])).length, 12);
});

test('last customer message skips outgoing, system and empty rows', () => {
  const conv = { messages: [
    { direction: 'in', kind: 'text', text: '<img src=x onerror=alert(1)>' },
    { direction: 'in', kind: 'image', text: null },
    { direction: 'out', kind: 'text', text: 'ok' },
  ] };
  assert.equal(lastCustomerMessage(conv), '<img src=x onerror=alert(1)>');
  assert.equal(lastCustomerMessage({ messages: [] }), null);
});

test('citation titles: each cited passage title once, for the "fonte:" line', () => {
  const s = { citations: [
    { id: 'k1.3', title: 'Política de trocas' },
    { id: 'k1.4', title: ' Política de trocas ' },
    { id: 'k2.7', title: 'Catálogo' },
    { id: 'k3.1', title: '' },
    { id: 'k4.1' },
  ] };
  assert.deepEqual(citationTitles(s), ['Política de trocas', 'Catálogo']);
  assert.deepEqual(citationTitles({ text: 'Oi!', citations: [] }), []);
  assert.deepEqual(citationTitles({ text: 'Oi!' }), []); // a streamed suggestion has no citations yet
  assert.deepEqual(citationTitles({ citations: ['a', 'b', 'c', 'd'].map((t) => ({ title: t })) }), ['a', 'b', 'c']);
});

test('contact changes: only changed fields, typed for PATCH /contacts/{id}', () => {
  const c = { name: 'Mariana Costa', stage: 'lead', value: null, tags: ['vip'], notes: '' };
  assert.deepEqual(contactChanges(c, { name: 'Mariana Costa', stage: 'lead', value: '', tags: 'vip', notes: '' }), {});
  assert.deepEqual(contactChanges(c, { name: ' Mariana C. ', stage: 'proposal', value: '189,90', tags: 'vip, vestido, vip', notes: 'M' }), {
    name: 'Mariana C.', stage: 'proposal', value: 189.9, tags: ['vip', 'vestido'], notes: 'M',
  });
  assert.deepEqual(contactChanges(c, { name: '', stage: 'lead', value: '-3', tags: 'vip', notes: '' }), {});
});

test('quick replies: {nome} becomes the first name', () => {
  assert.equal(firstName('  Mariana Costa '), 'Mariana');
  assert.equal(fillTemplate('Oi {nome}, tudo bem? {NOME}!', 'Mariana Costa'), 'Oi Mariana, tudo bem? Mariana!');
  assert.equal(fillTemplate('Hi {name}', ''), 'Hi ');
});

test('quick replies: the "/shortcut" before the caret is found and replaced through execCommand', () => {
  const doc = documentFor('<div id="main"><footer><div contenteditable="true" role="textbox"><p>Oi! /pre</p></div></footer></div>');
  const box = doc.querySelector('[contenteditable]');
  const text = box.querySelector('p').firstChild;
  const sel = doc.getSelection();
  const range = doc.createRange();
  range.setStart(text, text.data.length);
  range.collapse(true);
  sel.removeAllRanges();
  sel.addRange(range);
  const at = shortcutAtCaret(doc, box);
  assert.deepEqual({ start: at.start, end: at.end, query: at.query }, { start: 4, end: 8, query: 'pre' });
  // jsdom has no editing: stand in for the browser's insertText over the selection.
  doc.execCommand = (cmd, _ui, value) => {
    assert.equal(cmd, 'insertText');
    const r = doc.getSelection().getRangeAt(0);
    r.deleteContents();
    r.insertNode(doc.createTextNode(value));
    return true;
  };
  assert.equal(replaceShortcut(doc, box, at, 'Nosso preço é R$ 189,90.'), true);
  assert.equal(box.textContent, 'Oi! Nosso preço é R$ 189,90.');
  // No trigger: a URL path or an e-mail is not a shortcut.
  box.querySelector('p').textContent = 'veja https://loja/x';
  const t2 = box.querySelector('p').firstChild;
  range.setStart(t2, t2.data.length);
  range.collapse(true);
  sel.removeAllRanges();
  sel.addRange(range);
  assert.equal(shortcutAtCaret(doc, box), null);
});

test('server URL: origin only; http only for this computer; permission pattern per host', () => {
  assert.equal(normaliseServerUrl('http://127.0.0.1:8765/'), 'http://127.0.0.1:8765');
  assert.equal(normaliseServerUrl('https://crm.example.com'), 'https://crm.example.com');
  assert.throws(() => normaliseServerUrl('http://crm.example.com'), /https/);
  assert.throws(() => normaliseServerUrl('https://crm.example.com/api'), /only/);
  assert.throws(() => normaliseServerUrl('ftp://x'), /http/);
  assert.throws(() => normaliseServerUrl('https://u:p@x.com'), /credentials/);
  assert.equal(originPattern('https://crm.example.com:8443'), 'https://crm.example.com/*');
});

// Draft insertion. jsdom has no execCommand, DataTransfer or ClipboardEvent: the tests stand
// in for Chrome + Lexical with small stubs, once taking execCommand, once refusing it so the
// synthetic paste must be used. Nothing may ever look like sending (Enter, click, submit).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { documentFor, loadFixtures } from './helpers/dom.mjs';
import { findComposeBox, insertDraft } from '../../extension/content/whatsapp/compose.js';

const html = loadFixtures().find((f) => f.name === 'chat_ptbr_1to1.html').html;

/** A WhatsApp page with clipboard stubs and a recorder of anything send-like. */
function setup() {
  const doc = documentFor(html);
  const win = doc.defaultView;
  win.DataTransfer = class {
    #data = new Map();
    setData(type, value) { this.#data.set(type, String(value)); }
    getData(type) { return this.#data.get(type) ?? ''; }
    get types() { return [...this.#data.keys()]; }
  };
  win.ClipboardEvent = class extends win.Event {
    constructor(type, init = {}) {
      super(type, init);
      this.clipboardData = init.clipboardData ?? null;
    }
  };
  const sendLike = [];
  for (const type of ['keydown', 'keypress', 'keyup']) {
    doc.addEventListener(type, (e) => sendLike.push(`${type}:${e.key}`), true);
  }
  doc.addEventListener('click', (e) => sendLike.push(`click:${e.target.localName}`), true);
  doc.addEventListener('submit', () => sendLike.push('submit'), true);
  doc.addEventListener('beforeinput', (e) => {
    if (e.inputType === 'insertParagraph') sendLike.push('insertParagraph');
  }, true);
  return { doc, win, box: findComposeBox(doc), sendLike };
}

/** What Lexical does with inserted text: one <p> per line, replacing the empty <p><br></p>. */
function lexicalInsert(box, text) {
  const doc = box.ownerDocument;
  const empty = box.querySelector('p:only-child > br:only-child');
  if (empty) empty.parentElement.remove();
  for (const line of text.split('\n')) {
    const p = doc.createElement('p');
    p.className = 'selectable-text copyable-text';
    if (line) p.appendChild(doc.createElement('span')).textContent = line;
    else p.appendChild(doc.createElement('br'));
    box.appendChild(p);
  }
}

const lexicalPaste = (box, log = []) => box.addEventListener('paste', (e) => {
  log.push(e.clipboardData.types.join(','));
  e.preventDefault();
  lexicalInsert(box, e.clipboardData.getData('text/plain'));
});

test('findComposeBox: the Lexical box in #main footer, with its fallbacks, never a box elsewhere', () => {
  const { doc, box } = setup();
  assert.equal(box.getAttribute('data-lexical-editor'), 'true');
  assert.ok(box.closest('#main footer'));

  box.removeAttribute('data-lexical-editor');
  assert.equal(findComposeBox(doc), box, 'fallback: [contenteditable][role=textbox]');
  box.removeAttribute('role');
  assert.equal(findComposeBox(doc), box, 'fallback: .lexical-rich-text-input [contenteditable]');

  const side = doc.createElement('div');
  side.setAttribute('contenteditable', 'true');
  side.setAttribute('role', 'textbox');
  side.setAttribute('data-tab', '10');
  side.setAttribute('data-lexical-editor', 'true');
  doc.getElementById('side').prepend(side);
  box.remove();
  assert.equal(findComposeBox(doc), null, 'a contenteditable outside #main footer is not the compose box');
});

test('execCommand path: focus, caret in the box, insertText, verified one frame later', async () => {
  const { doc, box, sendLike } = setup();
  const calls = [];
  doc.execCommand = (command, showUi, value) => {
    const sel = doc.getSelection();
    calls.push({ command, showUi, value, focused: doc.activeElement === box, caretInBox: box.contains(sel.anchorNode) });
    lexicalInsert(box, value);
    return true;
  };
  const text = 'Oi Mariana! Temos sim 😊\nO frete para Campinas é R$ 15,00.';
  const result = await insertDraft(doc, text);
  assert.deepEqual(result, { ok: true, method: 'execCommand' });
  assert.deepEqual(calls, [{ command: 'insertText', showUi: false, value: text, focused: true, caretInBox: true }]);
  assert.equal(box.querySelectorAll('p').length, 2, 'one paragraph per line');
  assert.deepEqual(sendLike, []);
});

test('fallback path: execCommand refused → synthetic paste with text/plain', async () => {
  const { doc, box, sendLike } = setup();
  let execCalls = 0;
  doc.execCommand = () => { execCalls += 1; return false; };
  const pasted = [];
  lexicalPaste(box, pasted);
  const text = 'Linha 1\n\nLinha 3 com emoji 👍';
  const result = await insertDraft(doc, text);
  assert.deepEqual(result, { ok: true, method: 'paste' });
  assert.equal(execCalls, 1);
  assert.deepEqual(pasted, ['text/plain']);
  assert.deepEqual([...box.querySelectorAll('p')].map((p) => p.textContent), ['Linha 1', '', 'Linha 3 com emoji 👍']);
  assert.deepEqual(sendLike, []);
});

test('fallback path: execCommand "succeeds" but the editor ignored it → paste', async () => {
  const { doc, box, sendLike } = setup();
  doc.execCommand = () => true; // e.g. Lexical cancelled the beforeinput
  lexicalPaste(box);
  assert.deepEqual(await insertDraft(doc, 'Combinado!'), { ok: true, method: 'paste' });
  assert.match(box.textContent, /Combinado!/);
  assert.deepEqual(sendLike, []);
});

test('an existing draft is kept, and text already in it does not count as inserted', async () => {
  const { doc, box } = setup();
  lexicalInsert(box, 'Combinado!');
  doc.execCommand = () => false; // nothing lands
  box.addEventListener('paste', (e) => e.preventDefault()); // nor does the paste
  assert.deepEqual(await insertDraft(doc, 'Combinado!'), { ok: false, method: 'paste' });
  assert.equal(box.textContent, 'Combinado!');
});

test('execCommand throwing (non-Chromium) still falls back to paste', async () => {
  const { doc, box } = setup();
  doc.execCommand = () => { throw new Error('not supported'); };
  lexicalPaste(box);
  assert.deepEqual(await insertDraft(doc, 'Olá'), { ok: true, method: 'paste' });
});

test('no compose box, or empty text: nothing happens', async () => {
  const { doc, box, sendLike } = setup();
  let execCalls = 0;
  doc.execCommand = () => { execCalls += 1; return true; };
  assert.deepEqual(await insertDraft(doc, '   '), { ok: false, method: null });
  box.closest('footer').remove();
  assert.deepEqual(await insertDraft(doc, 'Oi'), { ok: false, method: null });
  assert.equal(execCalls, 0);
  assert.deepEqual(sendLike, []);
});

// Chat switches in the content script: a new #main restarts every per-chat feature with a
// fresh AbortSignal (the old one fires), and mutations of our own UI are ignored.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { watchChats } from '../../extension/content/lifecycle.js';
import { documentFor } from './helpers/dom.mjs';

const wait = (ms) => new Promise((r) => setTimeout(r, ms));

test('replacing #main aborts the old chat features and starts them on the new chat', async () => {
  const doc = documentFor('<div id="app"><div id="main" data-chat="a"></div></div>');
  globalThis.MutationObserver = doc.defaultView.MutationObserver;
  const runs = [];
  const feature = { name: 'probe', init: ({ signal, main }) => runs.push({ chat: main.dataset.chat, signal }) };
  const own = doc.createElement('div');
  doc.body.append(own);
  const stop = watchChats({ document: doc, features: [feature], isOwnNode: (n) => n === own || own.contains(n), wait: 10 });
  assert.deepEqual(runs.map((r) => r.chat), ['a']);

  const next = doc.createElement('div');
  next.id = 'main';
  next.dataset.chat = 'b';
  doc.getElementById('main').replaceWith(next);
  await wait(40);
  assert.deepEqual(runs.map((r) => r.chat), ['a', 'b']);
  assert.equal(runs[0].signal.aborted, true);
  assert.equal(runs[1].signal.aborted, false);

  // Our own UI changing, or the same #main changing, starts nothing.
  own.append(doc.createElement('span'));
  next.append(doc.createElement('div'));
  await wait(40);
  assert.equal(runs.length, 2);

  // Chat closed: features stop; stop() cleans the last ones up.
  next.remove();
  await wait(40);
  assert.equal(runs[1].signal.aborted, true);
  const again = doc.createElement('div');
  again.id = 'main';
  again.dataset.chat = 'c';
  doc.getElementById('app').append(again);
  await wait(40);
  stop();
  assert.deepEqual(runs.map((r) => r.chat), ['a', 'b', 'c']);
  assert.equal(runs[2].signal.aborted, true);
  delete globalThis.MutationObserver;
});

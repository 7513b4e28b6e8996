// The capture queue: bounded, persisted, sent in order once the server is back, one flush at
// a time, and an item enqueued during a flush is not left behind.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCaptureQueue } from '../../extension/background/capture-queue.js';
import { ApiError, NetworkError } from '../../extension/background/api.js';
import { fakeArea, deferred } from './helpers/fakes.mjs';

const cap = (n) => ({ chat: { id: `c${n}@c.us`, title: `chat ${n}` }, messages: [{ id: `m${n}` }] });

test('while the server is down captures wait in storage, bounded, oldest dropped first', async () => {
  const area = fakeArea();
  let down = true;
  const sent = [];
  const q = createCaptureQueue({
    area,
    limit: 3,
    send: async (c) => {
      if (down) throw new NetworkError('refused');
      sent.push(c.chat.id);
      return { conversation_id: c.chat.id };
    },
  });
  for (let i = 1; i <= 5; i += 1) {
    await q.enqueue(cap(i));
    const out = await q.flush();
    assert.ok(out.error instanceof NetworkError);
  }
  assert.equal(await q.size(), 3);
  assert.deepEqual((await area.get('captures.queue'))['captures.queue'].map((i) => i.capture.chat.id), ['c3@c.us', 'c4@c.us', 'c5@c.us']);
  down = false;
  const out = await q.flush();
  assert.equal(out.sent, 3);
  assert.deepEqual(sent, ['c3@c.us', 'c4@c.us', 'c5@c.us']);
  assert.equal(await q.size(), 0);
});

test('a queue persisted by an earlier worker is sent by a new one, in order', async () => {
  const area = fakeArea();
  const q1 = createCaptureQueue({ area, send: async () => { throw new NetworkError('down'); } });
  await q1.enqueue(cap(1));
  await q1.enqueue(cap(2));
  const sent = [];
  const onSent = [];
  const q2 = createCaptureQueue({
    area,
    send: async (c) => { sent.push(c.chat.id); return { conversation_id: `conv-${c.chat.id}` }; },
    onSent: (item, answer) => onSent.push([item.tabId, answer.conversation_id]),
  });
  await q2.enqueue(cap(3), { tabId: 7 });
  await q2.flush();
  assert.deepEqual(sent, ['c1@c.us', 'c2@c.us', 'c3@c.us']);
  assert.deepEqual(onSent.at(-1), [7, 'conv-c3@c.us']);
});

test('concurrent flushes share one run and never send an item twice or out of order', async () => {
  const area = fakeArea();
  const gate = deferred();
  const sent = [];
  const q = createCaptureQueue({
    area,
    send: async (c) => {
      sent.push(c.chat.id);
      if (sent.length === 1) await gate.promise;
      return {};
    },
  });
  await q.enqueue(cap(1));
  await q.enqueue(cap(2));
  const a = q.flush();
  const b = q.flush();
  await q.enqueue(cap(3)); // arrives while the first send is held
  const c = q.flush();
  gate.resolve();
  await Promise.all([a, b, c]);
  assert.deepEqual(sent, ['c1@c.us', 'c2@c.us', 'c3@c.us']);
  assert.equal(await q.size(), 0);
});

test('401 (not paired) keeps the queue; a capture the server rejects for good is dropped, the rest go on', async () => {
  const area = fakeArea();
  let paired = false;
  const sent = [];
  const q = createCaptureQueue({
    area,
    send: async (c) => {
      if (!paired) throw new ApiError(401, 'not_paired', 'pair first');
      if (c.chat.id === 'c2@c.us') throw new ApiError(400, 'invalid_capture', 'bad', 'messages[0].direction');
      sent.push(c.chat.id);
      return {};
    },
  });
  await q.enqueue(cap(1));
  await q.enqueue(cap(2));
  await q.enqueue(cap(3));
  let out = await q.flush();
  assert.equal(out.pending, 3);
  paired = true;
  out = await q.flush();
  assert.deepEqual(sent, ['c1@c.us', 'c3@c.us']);
  assert.equal(out.results.find((r) => r.error).error.code, 'invalid_capture');
  assert.equal(await q.size(), 0);
});

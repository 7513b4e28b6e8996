// The event-stream parser used to proxy /insights/stream to the panel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseEventStream, followInsights } from '../../extension/background/sse.js';

function streamOf(chunks) {
  const enc = new TextEncoder();
  return new ReadableStream({
    start(controller) {
      for (const c of chunks) controller.enqueue(typeof c === 'string' ? enc.encode(c) : c);
      controller.close();
    },
  });
}

async function collect(stream) {
  const out = [];
  for await (const e of parseEventStream(stream)) out.push(e);
  return out;
}

test('events split across chunks, comments, CRLF, multi-line data and UTF-8 split mid-character', async () => {
  const bytes = new TextEncoder().encode('event: suggestion\ndata: {"index":0,"text":"Olá ção"}\n\n');
  const cut = bytes.indexOf(0xc3) + 1; // inside "á"
  const events = await collect(streamOf([
    'event: state\r\ndata: {"state":"pending"}\r\n\r\n: ping\n\n',
    bytes.slice(0, cut), bytes.slice(cut),
    'event: insight\ndata: {"a":\ndata: 1}\n\n',
    'data: tail-without-newline',
  ]));
  assert.deepEqual(events.map((e) => e.event), ['state', 'suggestion', 'insight']);
  assert.deepEqual(JSON.parse(events[0].data), { state: 'pending' });
  assert.equal(JSON.parse(events[1].data).text, 'Olá ção');
  assert.deepEqual(JSON.parse(events[2].data), { a: 1 });
});

test('followInsights parses JSON, stops on abort, and gives up on 404', async () => {
  const got = [];
  const controller = new AbortController();
  const api = {
    async request(method, path) {
      assert.equal(method, 'GET');
      assert.match(path, /^\/conversations\/c1\/insights\/stream$/);
      return { body: streamOf(['event: labels\ndata: {"sentiment":{"label":"positive"}}\n\n']) };
    },
  };
  await followInsights(api, 'c1', {
    signal: controller.signal,
    onEvent: (name, data) => { got.push([name, data]); controller.abort(); },
    sleep: async () => {},
  });
  assert.deepEqual(got, [['labels', { sentiment: { label: 'positive' } }]]);

  const errors = [];
  await followInsights({ request: async () => { throw Object.assign(new Error('gone'), { status: 404 }); } }, 'c2', {
    signal: new AbortController().signal, onEvent: () => {}, onError: (e) => errors.push(e.status), sleep: async () => {},
  });
  assert.deepEqual(errors, [404]);
});

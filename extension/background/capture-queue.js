// Captures waiting for the server. Each capture goes through the queue, so order is kept:
// while the server is unreachable (or this browser is not paired yet) they stay in
// chrome.storage.local, bounded (the oldest is dropped first), and are sent in order when
// the server is back. One flush runs at a time.

import { KEYS, QUEUE_LIMIT } from './config.js';
import { ApiError, NetworkError } from './api.js';

/**
 * @param {object} deps
 * @param {chrome.storage.StorageArea} deps.area chrome.storage.local
 * @param {(capture: object) => Promise<object>} deps.send posts one capture, returns the answer
 * @param {(item: {tabId?: number, capture: object}, answer: object) => void} [deps.onSent]
 * @param {number} [deps.limit]
 */
export function createCaptureQueue({ area, send, onSent = () => {}, limit = QUEUE_LIMIT }) {
  let flushing = null;
  let again = false; // a flush was asked for while one ran: run once more at its end
  let seq = 0;
  let chain = Promise.resolve(); // serialises read-modify-write of the stored queue

  const locked = (fn) => {
    const run = chain.then(fn, fn);
    chain = run.catch(() => {});
    return run;
  };
  const read = async () => (await area.get(KEYS.queue))[KEYS.queue] ?? [];
  const write = (items) => area.set({ [KEYS.queue]: items });

  /** Adds a capture at the end; returns how many are waiting. */
  function enqueue(capture, meta = {}) {
    return locked(async () => {
      const items = await read();
      seq += 1;
      const key = `${Date.now().toString(36)}.${seq}.${Math.random().toString(36).slice(2, 8)}`;
      items.push({ ...meta, key, capture, queued_at: Date.now() });
      const dropped = Math.max(0, items.length - limit);
      await write(items.slice(dropped));
      return { key, size: items.length - dropped, dropped };
    });
  }

  /** Removes the first item if it is still `item`. */
  const shift = (item) => locked(async () => {
    const items = await read();
    if (items.length && items[0].key === item.key) items.shift();
    await write(items);
  });

  async function doFlush(results) {
    for (;;) {
      const [item] = await read();
      if (!item) return { sent: results.length, pending: 0, results };
      let answer;
      try {
        answer = await send(item.capture);
      } catch (err) {
        const waiting = (await read()).length;
        // Unreachable or not signed in: keep everything, try again later, in the same order.
        if (err instanceof NetworkError || (err instanceof ApiError && (err.status === 401 || err.status >= 500 || err.status === 429))) {
          return { sent: results.length, pending: waiting, error: err, results };
        }
        // Rejected for good (400/403/404/413/415): it would never pass; drop it and go on.
        await shift(item);
        results.push({ item, error: err });
        continue;
      }
      await shift(item);
      results.push({ item, answer });
      onSent(item, answer);
    }
  }

  /**
   * Sends what is waiting, in order. Concurrent calls share one flush, which runs once more
   * when asked during its run, so an item enqueued meanwhile is never left behind.
   * @returns {Promise<{sent: number, pending: number, error?: Error, results: Array}>}
   */
  function flush() {
    if (flushing) {
      again = true;
      return flushing;
    }
    flushing = (async () => {
      const results = [];
      let out;
      do {
        again = false;
        out = await doFlush(results);
      } while (again && !out.error);
      return out;
    })().finally(() => { flushing = null; });
    return flushing;
  }

  return { enqueue, flush, size: async () => (await read()).length, items: read };
}

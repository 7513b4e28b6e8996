// Small fakes for the worker's unit tests: chrome.storage areas and a scripted fetch.
// (The real browser path is covered end to end by tests/e2e/test_extension_e2e.py.)

/** An in-memory chrome.storage.StorageArea (get/set/remove with the same shapes). */
export function fakeArea(initial = {}) {
  const data = structuredClone(initial);
  return {
    data,
    async get(keys) {
      if (keys == null) return structuredClone(data);
      const list = typeof keys === 'string' ? [keys] : Array.isArray(keys) ? keys : Object.keys(keys);
      const out = {};
      for (const k of list) if (k in data) out[k] = structuredClone(data[k]);
      return out;
    },
    async set(items) {
      for (const [k, v] of Object.entries(items)) data[k] = structuredClone(v);
    },
    async remove(keys) {
      for (const k of typeof keys === 'string' ? [keys] : keys) delete data[k];
    },
  };
}

export const fakeStorage = () => ({ session: fakeArea(), local: fakeArea() });

/** A JSON Response. */
export const json = (status, body) => new Response(body === undefined ? null : JSON.stringify(body), {
  status,
  headers: { 'Content-Type': 'application/json' },
});

/**
 * A fetch whose answers come from `route(method, path, body, headers)`; every call is
 * recorded in `calls`. A route may return a promise (to hold the answer back).
 */
export function fakeFetch(route) {
  const calls = [];
  const fetch = async (url, init = {}) => {
    const u = new URL(url);
    const body = init.body ? JSON.parse(init.body) : undefined;
    const call = { method: init.method ?? 'GET', path: u.pathname + u.search, body, headers: init.headers ?? {} };
    calls.push(call);
    return route(call);
  };
  return { fetch, calls };
}

export const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A promise with its resolve function outside. */
export function deferred() {
  let resolve;
  const promise = new Promise((r) => { resolve = r; });
  return { promise, resolve };
}

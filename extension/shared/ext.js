// The WebExtension namespace (Firefox's promise-based `browser`, else Chromium's `chrome`)
// and a small request helper for the extension's pages.

export const ext = globalThis.browser ?? globalThis.chrome;

/** Asks the worker; resolves with the result or rejects with {kind, code, message}. */
export async function ask(type, payload = {}) {
  let answer;
  try {
    answer = await ext.runtime.sendMessage({ type, ...payload });
  } catch (err) {
    throw { kind: 'internal', code: 'no_worker', message: String(err?.message ?? err) };
  }
  if (!answer?.ok) throw answer?.error ?? { kind: 'internal', code: 'no_answer', message: 'no answer' };
  return answer.result;
}

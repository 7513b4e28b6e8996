// The content script's only way out: messages to the worker (content scripts never fetch,
// never see tokens, never touch chrome.storage).

export const ext = globalThis.browser ?? globalThis.chrome;

/** True while this content script still belongs to a live extension (false after an update). */
export const alive = () => Boolean(ext?.runtime?.id);

/** Asks the worker; resolves with the result, rejects with {kind, code, message}. */
export async function ask(type, payload = {}) {
  if (!alive()) throw { kind: 'internal', code: 'extension_reloaded', message: 'the extension was reloaded' };
  let answer;
  try {
    answer = await ext.runtime.sendMessage({ type, ...payload });
  } catch (err) {
    throw { kind: 'internal', code: 'no_worker', message: String(err?.message ?? err) };
  }
  if (!answer?.ok) throw answer?.error ?? { kind: 'internal', code: 'no_answer', message: 'no answer' };
  return answer.result;
}

export const message = (key, subs) => ext.i18n.getMessage(key, subs) || key;

/** fn, delayed until `ms` passed without another call; .cancel() drops a pending call. */
export function debounce(fn, ms) {
  let timer = null;
  const debounced = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      fn(...args);
    }, ms);
  };
  debounced.cancel = () => {
    clearTimeout(timer);
    timer = null;
  };
  return debounced;
}

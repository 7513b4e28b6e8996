// What the worker knows about each WhatsApp tab: the open chat (its key and title), the
// server's conversation id once a capture of it was accepted, and how the capture fared.
// Mirrored in chrome.storage.session so a restarted worker still knows it.

const keyOf = (tabId) => `tab.${tabId}`;

export function createTabState(area) {
  const memory = new Map();

  async function get(tabId) {
    if (tabId == null) return null;
    if (memory.has(tabId)) return memory.get(tabId);
    const got = await area.get(keyOf(tabId));
    const state = got[keyOf(tabId)] ?? null;
    if (state) memory.set(tabId, state);
    return state;
  }

  async function set(tabId, state) {
    const value = { ...state, tabId, updated_at: Date.now() };
    memory.set(tabId, value);
    await area.set({ [keyOf(tabId)]: value });
    return value;
  }

  /** Merges fn(current) into the state; returns the new state. */
  async function update(tabId, fn) {
    const current = await get(tabId);
    const changes = fn(current) ?? {};
    if (!Object.keys(changes).length) return current;
    return set(tabId, { ...(current ?? {}), ...changes });
  }

  async function remove(tabId) {
    memory.delete(tabId);
    await area.remove(keyOf(tabId));
  }

  return { get, set, update, remove };
}

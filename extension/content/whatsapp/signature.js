// A cheap fingerprint of a capture, so the content script posts only when the chat changed
// (a new/edited/deleted message or another chat), not on every DOM mutation.

/** How many of the latest messages the signature covers. */
export const SIGNATURE_WINDOW = 5;

/** FNV-1a 32-bit as 8 hex digits: short, stable, good enough to notice a changed text. */
export function shortHash(text) {
  let h = 0x811c9dc5;
  const s = String(text ?? '');
  for (let i = 0; i < s.length; i += 1) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * "chatKey|id:hash|id:hash…" over the last SIGNATURE_WINDOW messages. The chat key is the
 * JID, or the title when WhatsApp hides the JID. '' for no capture.
 */
export function chatSignature(capture) {
  if (!capture?.chat) return '';
  const { id, title } = capture.chat;
  const key = id ? `id:${id}` : `title:${title ?? ''}`;
  const tail = (capture.messages ?? [])
    .slice(-SIGNATURE_WINDOW)
    .map((m) => `${m.id}:${shortHash(m.text ?? '')}`);
  return [key, ...tail].join('|');
}

/** Remembers the last signature: changed(capture) is true when it differs (and records it). */
export function createChangeDetector() {
  let last = null;
  return {
    changed(capture) {
      if (!capture) return false; // no chat open: nothing to post
      const signature = chatSignature(capture);
      if (signature === last) return false;
      last = signature;
      return true;
    },
    /** Forget the last signature (e.g. after an error), so the next capture is posted. */
    reset() {
      last = null;
    },
  };
}

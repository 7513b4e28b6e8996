// Reading of WhatsApp's data-id values. The capture keeps the value verbatim (it is opaque to
// the server, which derives message identity itself); here we only read what it reveals:
// direction, chat JID and group participant. Since Apr 2026 some sessions show bare ids
// ("3EB0…") that reveal nothing.

// true|false _ <chatJid> _ <msgId> [_ <participantJid>]
const PACKED_RE = /^(true|false)_([^_@\s]+@[a-z.]+)_([^_\s]+)(?:_([^_\s]+@[a-z.]+))?$/i;

/**
 * @returns {{packed: boolean, fromMe: boolean|null, chatJid: string|null,
 *            messageId: string, participant: string|null}}
 */
export function parseDataId(value) {
  const raw = String(value ?? '');
  const m = PACKED_RE.exec(raw);
  if (!m) return { packed: false, fromMe: null, chatJid: null, messageId: raw, participant: null };
  return {
    packed: true,
    fromMe: m[1].toLowerCase() === 'true',
    chatJid: m[2],
    messageId: m[3],
    participant: m[4] ?? null,
  };
}

/** Groups are "…@g.us". */
export const isGroupJid = (jid) => /@g\.us$/i.test(String(jid ?? ''));

/**
 * Phone of a user JID: "5511987654321@c.us" → "+5511987654321". "@lid" JIDs (late 2025) are
 * anonymous ids, not phone numbers, so they give null, as do groups.
 */
export function phoneFromJid(jid) {
  const m = /^(\d{6,20})@(?:c\.us|s\.whatsapp\.net)$/i.exec(String(jid ?? ''));
  return m ? `+${m[1]}` : null;
}

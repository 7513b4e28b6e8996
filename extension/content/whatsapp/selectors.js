// Every hook Conversa uses on WhatsApp Web, in one place, so a WhatsApp redesign is fixed here.
// Source of truth: shared/fixtures/whatsapp/README.md ("Hooks: primary vs fallback").
// Each export is either a CSS selector string or an ordered list [primary, ...fallbacks].
// Never hook on obfuscated build classes (`_amjv`, `x78zum5`…): they change every release.
// `data-testid` was largely removed in Aug 2023, so it only ever appears as a late fallback.
// aria-labels are localized: they are only used as fallbacks, never as the sole hook.

/** Open chat container. `#main` is replaced (not updated) when the user switches chat. */
export const CHAT_CONTAINER = [
  '#main',
  '[data-scrolltracepolicy="wa.web.conversation.messages"]',
  '#main [role="application"]',
];

/**
 * Rows of the message list (table: `#main [role="row"]`). Queried inside the chat container,
 * never the whole document: `#pane-side` also has role=row.
 */
export const ROW = '[role="row"]';

/** A row holds a message (or a system notice) only when it has a data-id; else it is a date divider. */
export const MESSAGE_ID_ATTR = 'data-id';
export const MESSAGE_ID = '[data-id]';

/** Fallback for message rows when role=row is missing (table: `#main .message-in, #main .message-out`). */
export const BUBBLE = '.message-in, .message-out';
export const BUBBLE_IN_CLASS = 'message-in';
export const BUBBLE_OUT_CLASS = 'message-out';

/** "[HH:MM, DD/MM/YYYY] Sender: " — timestamp and author in one attribute (primary). */
export const PRE_PLAIN_TEXT_ATTR = 'data-pre-plain-text';
export const PRE_PLAIN_TEXT = '[data-pre-plain-text]';

/** Visible time in the bubble meta (fallback for the timestamp); matched by its text pattern. */
export const META_TIME = 'span[dir="auto"]';

/**
 * Hidden screen-reader label "Sender:" at the top of each bubble. Not in the shared hook
 * table: used only for the author of an incoming message that lacks data-pre-plain-text
 * (voice notes, deleted messages, uncaptioned media).
 */
export const SENDER_LABEL = 'span[aria-label$=":"]';

/** Message text: last span.selectable-text outside the quote, not nested in another one. */
export const MESSAGE_TEXT = ['span.selectable-text', '[data-testid="selectable-text"]'];

/**
 * Links: `a[href]` inside the text element are part of the message text (read with it).
 * The link-preview card is a separate `a` before the text element, so it is never read.
 */
export const LINK = 'a[href]';

/** Emoji are images; their character is in data-plain-text (primary) or alt (fallback). */
export const EMOJI = ['img.emoji[data-plain-text]', 'img.emoji[alt]'];
export const EMOJI_TEXT_ATTRS = ['data-plain-text', 'alt'];

/**
 * Quoted reply inside a bubble: a role=button holding `.quoted-mention` (found from the mention
 * upwards, so no `:has()` is needed). Excluded from text, media and time detection.
 */
export const QUOTE_MENTION = '.quoted-mention';
export const QUOTE_BUTTON = '[role="button"]';
// English-only label; pt-BR shows "Mensagem citada", so this is a fallback at best.
export const QUOTE_FALLBACK = ['[aria-label="Quoted message"]'];

/** Chat title: first header span[dir=auto]; then the title attribute; then the active chat-list row. */
export const CHAT_TITLE = ['#main header span[dir="auto"]', '#main header span[title]'];

/** Compose box; always under `#main footer` because a side search box may be contenteditable too. */
export const COMPOSE_BOX = [
  '#main footer div[contenteditable="true"][data-lexical-editor="true"][data-tab="10"]',
  '#main footer [contenteditable="true"][role="textbox"]',
  '#main footer .lexical-rich-text-input [contenteditable]',
];

/** Chat list (side pane). Read the title attribute: the row text also holds the unread badge. */
export const CHAT_LIST_ROW = ['#pane-side [role="grid"] [role="row"]'];
// Name inside a list row/cell: span[title] (read its title attribute); the table's fallback
// `#pane-side [role="gridcell"] span[dir="auto"]`, here relative to the row/cell.
export const CHAT_LIST_NAME = ['span[title]', '[role="gridcell"] span[dir="auto"]', 'span[dir="auto"]'];
/** Active chat in the list; last-resort source of the chat title when the header is missing. */
export const CHAT_LIST_ACTIVE = '#pane-side [aria-selected="true"]';

/** Deleted ("This message was deleted"). data-icon names get renamed now and then. */
export const DELETED = ['[data-icon="recalled"]'];

/** Voice note: the progress slider is label-free; the play button's label is localized. */
export const VOICE = ['[role="slider"]', 'button[aria-label="Play voice message"]'];

/** Image: a blob: img inside the picture button ("Open picture" is English-only). */
export const IMAGE = [
  '[role="button"][aria-label="Open picture"] img[src^="blob:"]',
  '[role="button"] img[src^="blob:"]',
];

/**
 * Chat-list search box (to open a chat by its title, as an attendant would). Fixtures: an
 * <input role="textbox"> under `#side`; older builds use a contenteditable div there. Never
 * under `#main` (that is the compose box). The aria-label is localized: not a hook.
 */
export const SEARCH_BOX = [
  '#side input[role="textbox"]',
  '#side [contenteditable="true"][role="textbox"]',
  '#side [contenteditable="true"]',
];

/** The clickable cell of a chat-list row: WhatsApp opens the chat on its mousedown. */
export const CHAT_LIST_CELL = '[role="gridcell"][aria-selected], [role="gridcell"]';

// Every UI string of the extension's pages goes through here. By default it is
// chrome.i18n (the browser's language, default pt_BR); the options page can pin a language,
// in which case that locale's messages.json is read and used the same way.

import { ext } from './ext.js';

let pinned = null; // {key: {message, placeholders}} of the chosen locale, or null for "auto"

function fromPinned(key, subs) {
  const entry = pinned?.[key];
  if (!entry) return null;
  let text = entry.message;
  const args = subs == null ? [] : Array.isArray(subs) ? subs : [subs];
  for (const [name, ph] of Object.entries(entry.placeholders ?? {})) {
    const index = Number(/^\$(\d)$/.exec(ph.content)?.[1] ?? 0);
    text = text.replace(new RegExp(`\\$${name}\\$`, 'gi'), index ? String(args[index - 1] ?? '') : ph.content);
  }
  return text.replace(/\$(\d)/g, (_m, n) => String(args[Number(n) - 1] ?? ''));
}

/** Translated text for `key`; `subs` fill the placeholders. */
export function t(key, subs) {
  return fromPinned(key, subs) ?? (ext.i18n.getMessage(key, subs) || key);
}

/** Loads the chosen language ('auto' | 'pt_BR' | 'en'). */
export async function setLanguage(language) {
  pinned = null;
  if (!language || language === 'auto') return;
  try {
    const res = await fetch(ext.runtime.getURL(`_locales/${language}/messages.json`));
    pinned = await res.json();
  } catch {
    pinned = null;
  }
}

/**
 * Fills [data-i18n] (textContent), [data-i18n-placeholder], [data-i18n-title] and
 * [data-i18n-aria-label] in `root`. Never HTML.
 */
export function localize(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  if (root === document) document.documentElement.lang = t('localeTag');
}

/** Reads the language setting (via the worker) and localizes the page. */
export async function initI18n(ask) {
  try {
    const settings = await ask('settings.get');
    await setLanguage(settings.language);
  } catch {
    // worker unavailable: browser language
  }
  localize(document);
}

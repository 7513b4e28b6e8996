// Options: the server URL (another server than this computer's needs its host permission,
// asked for here, at runtime) and the language of the extension's pages.

import { ext, ask } from '../shared/ext.js';
import { t, initI18n, setLanguage, localize } from '../shared/i18n.js';
import { normaliseServerUrl, originPattern } from '../background/config.js';

const $ = (id) => document.getElementById(id);

function say(text, error = false) {
  $('message').textContent = text;
  $('message').style.color = error ? '#c62828' : '';
}

// Only the latest check writes the status line: the check of the old address, started when the
// page opened, can answer (slowly, when nothing listens there) after the one of a new address.
let statusCheck = 0;

async function showStatus() {
  const mine = ++statusCheck;
  try {
    const s = await ask('status', { fresh: true });
    if (mine !== statusCheck) return;
    const key = { ok: 'serverOk', unreachable: 'serverUnreachable', incompatible: 'serverIncompatible' }[s.server] ?? 'serverError';
    $('server-status').textContent = t(key, [s.serverUrl, String(s.apiVersion ?? '?'), String(s.expectedApiVersion)]);
  } catch (err) {
    if (mine === statusCheck) $('server-status').textContent = err.message ?? String(err);
  }
}

async function saveServer(value) {
  let origin;
  try {
    origin = normaliseServerUrl(value);
  } catch (err) {
    say(t('invalidUrl', [err.message]), true);
    return;
  }
  // Asked in the click itself (a user gesture is required); 127.0.0.1 is granted at install.
  if (new URL(origin).hostname !== '127.0.0.1') {
    let granted = false;
    try {
      granted = await ext.permissions.request({ origins: [originPattern(origin)] });
    } catch (err) {
      say(err.message ?? String(err), true);
      return;
    }
    if (!granted) {
      say(t('permissionDenied', [origin]), true);
      return;
    }
  }
  try {
    const settings = await ask('settings.set', { serverUrl: origin });
    $('server-url').value = settings.serverUrl;
    say(t('savedServer'));
  } catch (err) {
    say(err.message ?? String(err), true);
  }
  await showStatus();
}

async function main() {
  await initI18n(ask);
  const settings = await ask('settings.get');
  $('server-url').value = settings.serverUrl;
  $('language').value = settings.language;
  $('server-form').addEventListener('submit', (e) => {
    e.preventDefault();
    saveServer($('server-url').value);
  });
  $('reset-server').addEventListener('click', () => {
    $('server-url').value = settings.defaultServerUrl;
    saveServer(settings.defaultServerUrl);
  });
  $('language').addEventListener('change', async (e) => {
    try {
      await ask('settings.set', { language: e.target.value });
      await setLanguage(e.target.value);
      localize(document);
      say(t('saved'));
    } catch (err) {
      say(err.message ?? String(err), true);
    }
  });
  // Until here a choice or a click is lost (or the form submits natively and reloads the page):
  // say when the page is ready for its user (and for the end-to-end tests, which wait for it).
  document.documentElement.dataset.ready = 'true';
  await showStatus();
}

main();

// Popup: pair with a code from `conversa pair` (or sign in with a username and password, for
// a server on a VPS), see who is signed in and today's numbers. Talks only to the worker.

import { ask } from '../shared/ext.js';
import { t, initI18n } from '../shared/i18n.js';

const $ = (id) => document.getElementById(id);

function say(text, error = false) {
  $('message').textContent = text;
  $('message').classList.toggle('error', error);
}

const errorText = (err) => {
  if (err?.kind === 'unreachable') return t('errorUnreachable');
  if (err?.code === 'bad_pairing_code') return t('errorBadCode');
  if (err?.code === 'bad_credentials') return t('errorBadCredentials');
  if (err?.code === 'rate_limited') return t('errorRateLimited');
  return err?.message ?? String(err);
};

const seconds = (s) => (s == null ? '—' : s < 90 ? `${Math.round(s)} s` : `${Math.round(s / 60)} min`);

function row(term, value) {
  const dt = document.createElement('dt');
  dt.textContent = term;
  const dd = document.createElement('dd');
  dd.textContent = value;
  return [dt, dd];
}

async function showToday() {
  try {
    const m = await ask('metrics.today');
    const v = m.volumes ?? {};
    const mix = Object.entries(m.sentiment ?? {}).map(([k, n]) => `${t(`sentiment_${k}`)} ${n}`).join(' · ') || '—';
    $('today').replaceChildren(
      ...row(t('metricConversations'), String(v.conversations ?? 0)),
      ...row(t('metricMessagesIn'), String(v.messages_in ?? 0)),
      ...row(t('metricMessagesOut'), String(v.messages_out ?? 0)),
      ...row(t('metricFirstResponse'), seconds(m.first_response_seconds?.p50)),
      ...row(t('metricSentiment'), mix),
    );
  } catch (err) {
    $('today').replaceChildren(...row(t('todayTitle'), errorText(err)));
  }
}

async function refresh() {
  let status;
  try {
    status = await ask('status', { fresh: true });
  } catch (err) {
    say(errorText(err), true);
    return;
  }
  $('server').textContent = status.serverUrl;
  const down = status.server !== 'ok';
  $('server-down').hidden = !down;
  if (status.server === 'unreachable') $('server-down-text').textContent = t('noticeServerDownText', [status.serverUrl]);
  else if (status.server === 'incompatible') {
    $('server-down-text').textContent = t('noticeIncompatibleText', [String(status.apiVersion), String(status.expectedApiVersion)]);
  } else if (down) $('server-down-text').textContent = status.error?.message ?? '';
  $('signed-out').hidden = status.paired;
  $('signed-in').hidden = !status.paired;
  if (status.paired) {
    $('who').textContent = status.user?.username ?? '?';
    $('role').textContent = status.user?.role ? `(${t(`role_${status.user.role}`)})` : '';
    $('queued').textContent = status.queued ? t('capturesQueued', [String(status.queued)]) : '';
    if (!down) await showToday();
  }
}

async function signIn(type, payload, button) {
  button.disabled = true;
  say(t('signingIn'));
  try {
    const { user } = await ask(type, payload);
    say(t('signedInOk', [user?.username ?? '']));
    await refresh();
  } catch (err) {
    say(errorText(err), true);
  } finally {
    button.disabled = false;
  }
}

async function main() {
  await initI18n(ask);
  $('pair-form').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn('auth.pair', { code: $('code').value.trim() }, $('pair'));
  });
  $('login-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const password = $('password').value;
    $('password').value = '';
    signIn('auth.login', { username: $('username').value.trim(), password }, $('login'));
  });
  $('logout').addEventListener('click', async () => {
    await ask('auth.logout').catch(() => {});
    say(t('signedOut'));
    await refresh();
  });
  await refresh();
}

main();

// The contact card, edited in place: stage, value (R$ in the panel's language), tags completed
// from the team's existing tags, notes. Saved with the ETag it was read with: when someone else
// changed the card meanwhile the server answers 412 and the conflict is shown, nothing overwritten.

import { contactChanges, tagCompletions, completeTag } from './model.js';
import { langOf } from '../shared/time-format.js';

/**
 * @param {object} deps
 * @param {object} deps.state the panel's state (conversation, formDirty, contactEtag, knownTags)
 * @param {Function} deps.ask request to the worker
 * @param {Function} deps.t translation
 * @param {Function} deps.el element builder (textContent only)
 */
export function createContactCard({ state, ask, t, el }) {
  const $ = (id) => document.getElementById(id);
  const lang = () => langOf(t('localeTag'));
  const moneyInput = (v) => (v == null ? ''
    : new Intl.NumberFormat(t('localeTag'), { minimumFractionDigits: 2, maximumFractionDigits: 2 }).format(v));

  function renderContact() {
    const c = state.conversation?.contact;
    if (!c || state.formDirty) return;
    $('contact-name').value = c.name ?? '';
    $('contact-phone').textContent = c.phone ?? t('unknownPhone');
    $('contact-stage').value = c.stage ?? 'lead';
    $('contact-value').value = moneyInput(c.value);
    $('contact-tags').value = (c.tags ?? []).join(', ');
    $('contact-notes').value = c.notes ?? '';
  }

  async function saveContact(event) {
    event.preventDefault();
    const c = state.conversation?.contact;
    if (!c) return;
    const changes = contactChanges(c, {
      name: $('contact-name').value,
      stage: $('contact-stage').value,
      value: $('contact-value').value,
      tags: $('contact-tags').value,
      notes: $('contact-notes').value,
    }, lang());
    if (!Object.keys(changes).length) {
      $('contact-saved').textContent = t('nothingToSave');
      return;
    }
    $('contact-saved').textContent = t('saving');
    try {
      const { contact, etag } = await ask('panel.patchContact', { id: c.id, changes, etag: state.contactEtag });
      state.conversation.contact = contact;
      state.contactEtag = etag;
      state.formDirty = false;
      $('contact-conflict').hidden = true;
      renderContact();
      $('contact-saved').textContent = t('saved');
    } catch (err) {
      if (err.status === 412) {
        // Someone else changed the card meanwhile: keep what was typed, show it, overwrite nothing.
        $('contact-conflict').hidden = false;
        $('contact-saved').textContent = t('contactConflictShort');
      } else {
        $('contact-saved').textContent = t('saveFailed', [err.message ?? '']);
      }
    }
  }

  async function loadContactVersion(reset = false) {
    const c = state.conversation?.contact;
    if (!c) return;
    try {
      const { contact, etag } = await ask('panel.contact', { id: c.id });
      if (state.conversation?.contact?.id !== c.id) return;
      state.contactEtag = etag;
      if (reset) {
        state.conversation.contact = contact;
        state.formDirty = false;
        $('contact-conflict').hidden = true;
        $('contact-saved').textContent = '';
        renderContact();
      }
    } catch {
      state.contactEtag = null;
    }
  }

  async function suggestTags() {
    const box = $('tag-suggestions');
    try {
      state.knownTags ??= (await ask('panel.tags')).tags;
    } catch {
      state.knownTags = [];
    }
    const input = $('contact-tags');
    box.replaceChildren(...tagCompletions(input.value, state.knownTags).map((tag) => {
      const b = el('button', { type: 'button', class: 'chip', role: 'option', text: tag });
      b.addEventListener('click', () => {
        input.value = completeTag(input.value, tag);
        state.formDirty = true;
        box.replaceChildren();
        input.focus();
      });
      return b;
    }));
  }


  return {
    render: renderContact,
    loadVersion: loadContactVersion,
    wire() {
      $('contact-form').addEventListener('submit', saveContact);
      $('contact-tags').addEventListener('input', suggestTags);
      $('contact-reload').addEventListener('click', () => loadContactVersion(true));
    },
  };
}

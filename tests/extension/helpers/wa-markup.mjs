// Builders of synthetic WhatsApp Web markup, in the structure of the shared fixtures
// (shared/fixtures/whatsapp/chat_ptbr_1to1.html): obfuscated classes are decoration only,
// hooks are the ones of the hook table. Used to write the extra fixtures and, at test time,
// to generate long chats (chat-generator.mjs). Test code only: it builds HTML strings.

export const esc = (s) =>
  String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const GIF = 'data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7';

const icon = (name, size = 24, { label = null, cls = 'x1c4vz4f' } = {}) =>
  `<span ${label ? `aria-hidden="false" aria-label="${esc(label)}"` : 'aria-hidden="true"'} data-icon="${name}" class="${cls}"><svg viewBox="0 0 ${size} ${size}" height="${size}" width="${size}" preserveAspectRatio="xMidYMid meet" fill="none"><title>${name}</title><path d="M1 1h${size - 2}v${size - 2}H1z" fill="currentColor"></path></svg></span>`;

/** UI strings that differ per language (they are never hooks, only decoration). */
export const UI = {
  'pt-BR': {
    you: 'Você', openPicture: 'Abrir imagem', playVoice: 'Reproduzir mensagem de voz',
    quoted: 'Mensagem citada', deleted: 'Esta mensagem foi apagada', typeMessage: 'Digite uma mensagem',
    chats: 'Conversas', read: ' Lida ', contactInfo: 'clique para mostrar os dados do contato',
    messageList: 'Lista de mensagens. Pressione a tecla de seta para a direita em uma mensagem para abrir o menu da mensagem.',
    search: 'Pesquisar', voiceProgress: 'Progresso da mensagem de voz',
  },
  'en-US': {
    you: 'You', openPicture: 'Open picture', playVoice: 'Play voice message',
    quoted: 'Quoted message', deleted: 'This message was deleted', typeMessage: 'Type a message',
    chats: 'Chats', read: ' Read ', contactInfo: 'click here for contact info',
    messageList: 'Message list. Press right arrow key on a message to open message menu.',
    search: 'Search', voiceProgress: 'Voice message progress',
  },
};

/**
 * Rich message text: each emoji listed in `emojis` becomes an <img class="emoji">
 * (with data-plain-text unless `altOnly`), URLs become links.
 */
export function richText(text, { emojis = [], altOnly = false } = {}) {
  const tokens = [...emojis].sort((a, b) => b.length - a.length);
  const pattern = new RegExp(
    `(https?://[^\\s]+${tokens.length ? '|' + tokens.map((t) => t.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|') : ''})`,
    'gu',
  );
  return text
    .split(pattern)
    .map((part, i) => {
      if (i % 2 === 0) return esc(part);
      if (/^https?:/.test(part)) {
        return `<a href="${esc(part)}" title="${esc(part)}" target="_blank" rel="noopener noreferrer" class="_ao3e selectable-text copyable-text">${esc(part)}</a>`;
      }
      const plain = altOnly ? '' : ` data-plain-text="${esc(part)}"`;
      return `<img crossorigin="anonymous" src="${GIF}" alt="${esc(part)}" draggable="false" class="b17 emoji wa _ao3e selectable-text copyable-text"${plain} style="background-position: -40px -20px;">`;
    })
    .join('');
}

export const divider = (text) => `
                  <div role="row">
                    <div class="focusable-list-item _amjw x1n2onr6 x1c4vz4f" tabindex="-1">
                      <div class="_amjy _amk4 x6s0dn4 x78zum5 xl56j7k">
                        <span dir="auto" class="x140p0ai x1gufx9m xk50ysn _ao3e">${esc(text)}</span>
                      </div>
                    </div>
                  </div>`;

/** System notice: a row with a data-id but no bubble. */
export const systemRow = ({ id, text, iconName = null }) => `
                  <div role="row">
                    <div tabindex="-1" class="_amjv xscbp6u" data-id="${esc(id)}">
                      <div class="focusable-list-item _amjw x1n2onr6 x1c4vz4f" tabindex="-1">
                        <div class="_amjy _amk4 x6s0dn4 x78zum5 xl56j7k x1gfkgh9">
                          ${iconName ? icon(iconName, 12) : ''}<span dir="auto" class="x140p0ai x1gufx9m _ao3e">${esc(text)}</span>
                        </div>
                      </div>
                    </div>
                  </div>`;

const quoteBlock = ({ author, text }, ui) => `
                                      <div class="_aju3 x1n2onr6 x1iyjqo2">
                                        <div role="button" aria-label="${esc(ui.quoted)}" tabindex="0" class="_ahy0 x78zum5 x1n2onr6">
                                          <span class="x1n2onr6 x1xsqp64 x1tjgvm9"></span>
                                          <div class="_ahy2 x1iyjqo2">
                                            <div class="_ahy3 x1n2onr6">
                                              <div class="_ahxj _ahxz x78zum5 xw0s12w" role="">
                                                <span dir="auto" class="_ahxy _ao3e x1ypdohk">${esc(author)}</span>
                                              </div>
                                              <div class="_ak8k x1iyjqo2"><span dir="ltr" class="quoted-mention _ao3e">${esc(text)}</span></div>
                                            </div>
                                          </div>
                                        </div>
                                      </div>`;

const textBlock = (html, time) => `
                                      <div class="_akbu x6ikm8r x10wlt62">
                                        <span dir="ltr" class="_ao3e selectable-text copyable-text" data-testid="selectable-text" style="min-height: 0px;"><span>${html}</span></span>
                                        <span class="x3nfvp2 xxymvpz xlshs6z xqtp20y" aria-hidden="true"><span class="x1c4vz4f x2lah0s">${esc(time)}</span></span>
                                      </div>`;

const imageBlock = (ui, n) => `
                                    <div role="button" aria-label="${esc(ui.openPicture)}" tabindex="0" class="x1n2onr6 x1ypdohk x1ey2m1c" style="width: 330px; height: 248px;">
                                      <div class="x1n2onr6 x6ikm8r x10wlt62"><img src="blob:https://web.whatsapp.com/6f1c2d3e-4a5b-4c6d-8e7f-90a1b2c3d4e${n}" alt="" draggable="false" class="x15kfjtz x1c4vz4f x2lah0s xdl72j9 x127lhb5" style="width: 100%;"></div>
                                    </div>`;

const voiceBlock = (ui, duration) => `
                                    <div class="x1n2onr6 x1c4vz4f x1ey2m1c">
                                      <div class="x78zum5 x6s0dn4">
                                        <div class="_ak8n">${icon('default-contact-refreshed', 40)}</div>
                                        <button type="button" aria-label="${esc(ui.playVoice)}" class="x1ypdohk x14yjl9h">${icon('audio-play', 34)}</button>
                                        <div class="x1iyjqo2 x1n2onr6">
                                          <div role="slider" tabindex="0" aria-label="${esc(ui.voiceProgress)}" aria-valuemin="0" aria-valuemax="100" aria-valuenow="0" class="x1n2onr6 x1vjfegm"><div class="x10l6tqk x1ey2m1c" style="width: 0%;"></div></div>
                                        </div>
                                      </div>
                                      <div class="x1fcty0u x2lah0s x1c4vz4f">${esc(duration)}</div>
                                    </div>`;

const deletedBlock = (ui, time) => `
                                    <div class="x9f619 x78zum5 x6s0dn4 x1yrsyyn xizg8k">
                                      ${icon('recalled', 16)}
                                      <span dir="ltr" class="x1iyjqo2 _ao3e xt0b8zv"><span>${esc(ui.deleted)}</span></span>
                                      <span class="x3nfvp2 xxymvpz xlshs6z xqtp20y" aria-hidden="true"><span class="x1c4vz4f x2lah0s">${esc(time)}</span></span>
                                    </div>`;

/**
 * One message row. kind: text | image | audio | deleted. `pre` is the data-pre-plain-text
 * value (omit it for rows WhatsApp renders without one: voice notes, deleted, bare media).
 */
export function messageRow({
  id, dir, label, visibleAuthor = null, pre = null, time, kind = 'text', html = '', quote = null,
  duration = '0:42', read = true, lang = 'pt-BR', imageNo = 1,
}) {
  const ui = UI[lang] ?? UI['en-US'];
  let body = '';
  if (kind === 'image') body += imageBlock(ui, imageNo);
  if (kind === 'audio') body += voiceBlock(ui, duration);
  if (kind === 'deleted') body += deletedBlock(ui, time);
  if (html) {
    body += `
                                    <div class="copyable-text"${pre ? ` data-pre-plain-text="${esc(pre)}"` : ''}>${quote ? quoteBlock(quote, ui) : ''}${textBlock(html, time)}
                                    </div>`;
  }
  const receipts = dir === 'out'
    ? `
                                        <div class="x1rg5ohu x16dsc37">${icon(read ? 'msg-dblcheck' : 'msg-check', 16, { label: ui.read, cls: 'x1q15gih' })}</div>`
    : '';
  const author = visibleAuthor
    ? `
                                <div class="_ahxj _ahxz x78zum5 x1cy8zhl" role=""><span dir="auto" class="_ahxt x1ypdohk xt0b8zv _ao3e">${esc(visibleAuthor)}</span></div>`
    : '';
  return `
                  <div role="row">
                    <div tabindex="-1" class="_amjv xscbp6u" data-id="${esc(id)}">
                      <div class="x78zum5 xdt5ytf" data-virtualized="false">
                        <div class="">
                          <div class="message-${dir} focusable-list-item _amjy _amjz _amjw x1klvx2g xahtqtb">
                            ${icon(`tail-${dir}`, 13, { cls: '_amk7 x1c4vz4f' })}
                            <div class="_amk4 false _amkd _amk5">
                              <div class="_amk6 _amlo false false">
                                <span aria-label="${esc(label)}:"></span>${author}
                                <div>
                                  <div class="x9f619 x1hx0egp x1yrsyyn xizg8k xu9hqtb xwib8y2">${body}
                                    <div class="x1n2onr6 x1n327nk x18mqm2i xhsvlbd x11i5rnm xz62fqu xsgj6o6">
                                      <div class="x13yyeie xx3o462 xuxw1ft x78zum5 x6s0dn4 x12lo8hy x152skdk">
                                        <span class="x1c4vz4f x2lah0s xn6xy2s" dir="auto">${esc(time)}</span>${receipts}
                                      </div>
                                    </div>
                                  </div>
                                </div>
                              </div>
                            </div>
                          </div>
                        </div>
                      </div>
                    </div>
                  </div>`;
}

const chatListRow = ({ name, preview, time, selected = false, unread = 0 }, lang) => `
                <div role="row" class="x10l6tqk xh8yej3 x1g42fcv" style="z-index: 1; transition: none; height: 72px;">
                  <div tabindex="-1" role="gridcell" aria-colindex="2" aria-selected="${selected}" class="x1n2onr6 _ak72">
                    <div class="_ak8n">${icon('default-contact-refreshed', 49)}</div>
                    <div class="_ak8l">
                      <div role="gridcell" aria-colindex="2" class="_ak8o">
                        <div class="_ak8q"><span dir="auto" title="${esc(name)}" class="x1iyjqo2 x6ikm8r x10wlt62 x1n2onr6 xlyipyv xuxw1ft x1rg5ohu _ao3e">${esc(name)}</span></div>
                        <div class="_ak8i">${esc(time)}</div>
                      </div>
                      <div class="_ak8j">
                        <div class="_ak8k"><span class="x78zum5 x1cy8zhl" title="${esc(preview)}"><span dir="ltr" class="x1iyjqo2 _ao3e">${esc(preview)}</span></span></div>
                        <div role="gridcell" aria-colindex="1" class="_ahlk">${unread ? `<span aria-label="${unread} ${lang.startsWith('en') ? 'unread messages' : 'mensagens não lidas'}" class="x140p0ai x1gufx9m x1s928wv">${unread}</span>` : ''}</div>
                      </div>
                    </div>
                  </div>
                </div>`;

/** A whole WhatsApp Web page with one open chat. */
export function page({ lang = 'pt-BR', comment, docTitle = 'WhatsApp', chats = [], title, subtitle, rows }) {
  const ui = UI[lang] ?? UI['en-US'];
  return `<!DOCTYPE html>
<html lang="${lang}" dir="ltr" class="js serviceworker adownload cssanimations csstransitions webp">
<head>
  <meta charset="utf-8">
  <title>${esc(docTitle)}</title>
  <meta name="viewport" content="width=device-width">
  <!-- ${comment} -->
</head>
<body class="web">
  <div id="app">
    <div class="x1n2onr6 xyw6214 x78zum5 xdt5ytf x1iyjqo2 xh8yej3 x5yr21d">
      <div class="_aigs x1n2onr6 x1yrsyyn xmz0i5r" tabindex="-1">
        <div class="_aigw x9f619 x1n2onr6 x5yr21d x17dzmu4 x1i1dayz x2ipvbc x1w8yi2h xyyilfv x1iyjqo2 xpilrb4 x1t7ytsu">
          <div id="side" class="x1n2onr6 x14yjl9h xudhj91 x18nykt9 xww2gxu">
            <header class="x1n2onr6 x1c4vz4f">
              <h1 class="x1qlqyl8 x1pd3egz xcgk4ki">${esc(ui.chats)}</h1>
            </header>
            <div class="x1n2onr6 x1hx0egp">
              <input type="text" role="textbox" aria-label="${esc(ui.search)}" placeholder="${esc(ui.search)}" data-tab="3" class="x1hx0egp x6ikm8r x1odjw0f x1k6rcq7" value="">
            </div>
            <div id="pane-side" class="x1n2onr6 _ak9y" tabindex="-1">
              <div tabindex="-1" data-tab="4" aria-rowcount="${chats.length}" role="grid" class="x1y332i5 x1n2onr6 x6ikm8r x10wlt62">${chats.map((c) => chatListRow(c, lang)).join('')}
              </div>
            </div>
          </div>
        </div>
        <div class="_aigy x10l6tqk x13vifvy x17qophe x78zum5 xh8yej3 x5yr21d xw2csxc x1odjw0f xl56j7k">
          <div id="main" class="_ajx_ x1n2onr6 x78zum5 xdt5ytf">
            <header class="x1n2onr6 x1c4vz4f x9f619 _amid">
              <div class="x1n2onr6 x1c9tyrk xeusxvb x1pahc9y x1ertn4p _amie" role="button" tabindex="0">
                <div class="x1n2onr6" style="height: 40px; width: 40px;">${icon('default-contact-refreshed', 40)}</div>
              </div>
              <div class="x78zum5 xdt5ytf x1iyjqo2 xl56j7k xeuugli xtnn1bt x9v5kkp xmw7ebm xrdum7p" role="button" tabindex="0">
                <div class="x78zum5 x1cy8zhl">
                  <div class="x78zum5 x1iyjqo2 x6ikm8r x10wlt62">
                    <span dir="auto" title="${esc(title)}" class="x1iyjqo2 x6ikm8r x10wlt62 x1n2onr6 xlyipyv xuxw1ft x1rg5ohu _ao3e">${esc(title)}</span>
                  </div>
                </div>
                <div class="x78zum5 x1cy8zhl x1ib1h6n">
                  <span class="x1iyjqo2 x6ikm8r x10wlt62 x1n2onr6 xlyipyv xuxw1ft" title="${esc(subtitle ?? ui.contactInfo)}">${esc(subtitle ?? ui.contactInfo)}</span>
                </div>
              </div>
            </header>
            <div class="x1n2onr6 x1iyjqo2 xs83m0k x1r8uery x6ikm8r x10wlt62 copyable-area">
              <div class="x10l6tqk x13vifvy x1o0tod xupqr0c x9f619 x78zum5 xdt5ytf xh8yej3 x5yr21d x6ikm8r x1rife3k" data-scrolltracepolicy="wa.web.conversation.messages" tabindex="0">
                <div class="x12lumcd xx9tyur"></div>
                <div tabindex="-1" data-tab="8" role="application" aria-label="${esc(ui.messageList)}" class="x3psx0u xwib8y2 xkhd6sd xrmvbpv">${rows.join('')}
                </div>
              </div>
            </div>
            <footer tabindex="-1" class="_ak1i x1wiwyrm">
              <div class="x1n2onr6 xhtitgo x9f619 x78zum5 x1q0g3np xuk3077 xjbqb8w x1wiwyrm copyable-area">
                <div class="x1n2onr6 x98rzlu xh8yej3 xeuugli x1gg8mnh">
                  <div class="x1n2onr6 xh8yej3 xjdcl3y lexical-rich-text-input">
                    <div aria-activedescendant="" aria-autocomplete="list" aria-label="${esc(ui.typeMessage)}" aria-owns="emoji-suggestion" class="x1hx0egp x6ikm8r x1odjw0f x1k6rcq7 x6prxxf" contenteditable="true" role="textbox" spellcheck="true" tabindex="10" aria-placeholder="${esc(ui.typeMessage)}" data-tab="10" data-lexical-editor="true" style="max-height: 11.76em; min-height: 1.47em; user-select: text; white-space: pre-wrap; word-break: break-word;"><p class="selectable-text copyable-text x15bjb6t x1n2onr6"><br></p></div>
                    <div aria-hidden="true"><div class="x10l6tqk x13vifvy x1ey2m1c xhtitgo x1grh1yo">${esc(ui.typeMessage)}</div></div>
                  </div>
                </div>
              </div>
            </footer>
          </div>
        </div>
      </div>
    </div>
  </div>
</body>
</html>
`;
}

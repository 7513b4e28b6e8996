// Generates a long synthetic 1:1 chat (default 200 messages) and the capture it must give,
// for scale tests and the later scraping benchmark (tests/bench). Deterministic per seed.

import { page, divider, messageRow, richText } from './wa-markup.mjs';

const N = '\u202f'; // WhatsApp's narrow no-break space before AM/PM

const PHRASES = {
  'pt-BR': {
    in: [
      'Oi! Vocês têm esse modelo no tamanho G?',
      'Qual o prazo de entrega pra Curitiba?',
      'Aceitam cartão em 3x?',
      'Chegou certinho, obrigada! 😍',
      'Pode me mandar o link do produto?',
      'O tecido é de algodão?\nE dá pra lavar na máquina?',
      'Preciso trocar o tamanho, como faço?',
    ],
    out: [
      'Temos sim! 😊',
      'O prazo é de 3 a 5 dias úteis.',
      'Aceitamos em até 3x sem juros.',
      'Segue o link: https://loja.exemplo.com.br/p/123?tam=G',
      'É 100% algodão.\nPode lavar na máquina, ciclo delicado.',
      'A troca é grátis em até 30 dias 👍',
    ],
    caption: 'Olha a foto do produto',
  },
  'en-US': {
    in: [
      'Hi! Do you have this in large?',
      'How long does shipping to Denver take?',
      'Can I pay in installments?',
      'It arrived, thank you! 😍',
      'Could you send me the product link?',
      'Is it cotton?\nCan I machine wash it?',
      'I need a different size, how do I exchange it?',
    ],
    out: [
      'We do! 😊',
      'Shipping takes 3 to 5 business days.',
      'Yes, up to 3 interest-free payments.',
      'Here is the link: https://shop.example.com/p/123?size=L',
      "It's 100% cotton.\nMachine wash cold, gentle cycle.",
      'Exchanges are free within 30 days 👍',
    ],
    caption: 'Here is a photo of it',
  },
};
const EMOJIS = ['😍', '😊', '👍'];

/** Small deterministic PRNG (mulberry32). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const pad = (n) => String(n).padStart(2, '0');
const hex = (rand, len) => Array.from({ length: len }, () => '0123456789ABCDEF'[Math.floor(rand() * 16)]).join('');

function clock(hour, minute, lang) {
  if (lang === 'pt-BR') return `${pad(hour)}:${pad(minute)}`;
  const h12 = hour % 12 === 0 ? 12 : hour % 12;
  return `${h12}:${pad(minute)}${N}${hour < 12 ? 'AM' : 'PM'}`;
}

const shortDate = (d, lang) =>
  lang === 'pt-BR'
    ? `${pad(d.getDate())}/${pad(d.getMonth() + 1)}/${d.getFullYear()}`
    : `${d.getMonth() + 1}/${d.getDate()}/${d.getFullYear()}`;

/**
 * @param {{count?: number, lang?: 'pt-BR'|'en-US', seed?: number, bareIds?: boolean}} [options]
 * @returns {{html: string, expected: {chat: object, messages: object[]}}}
 */
export function generateChat({ count = 200, lang = 'pt-BR', seed = 7, bareIds = false } = {}) {
  const rand = rng(seed);
  const jid = '5511955554444@c.us';
  const contact = lang === 'pt-BR' ? 'Rafael Oliveira' : 'Taylor Brooks';
  const me = lang === 'pt-BR' ? 'Bella Casa Modas' : 'Maple & Pine Outfitters';
  const you = lang === 'pt-BR' ? 'Você' : 'You';
  const phrases = PHRASES[lang];

  const rows = [];
  const messages = [];
  const day = new Date(2026, 1, 1); // 1 Feb 2026
  let minutes = 8 * 60;
  let lastText = null;
  for (let i = 0; i < count; i += 1) {
    if (i % 20 === 0) {
      if (i > 0) day.setDate(day.getDate() + 1 + Math.floor(rand() * 2));
      minutes = 8 * 60 + Math.floor(rand() * 60);
      rows.push(divider(shortDate(day, lang)));
    }
    minutes += 1 + Math.floor(rand() * 25);
    const hour = Math.floor(minutes / 60) % 24;
    const minute = minutes % 60;
    const dir = rand() < 0.5 ? 'in' : 'out';
    const msgId = dir === 'out' ? `3EB0${hex(rand, 18)}` : `3A${hex(rand, 18)}`;
    const id = bareIds ? msgId : `${dir === 'out'}_${jid}_${msgId}`;
    const author = dir === 'out' ? me : contact;
    const time = clock(hour, minute, lang);
    const pre = `[${time}, ${shortDate(day, lang)}] ${author}: `;
    const roll = rand();
    let kind = 'text';
    if (i > 0 && roll < 0.05) kind = 'audio';
    else if (i > 0 && roll < 0.08) kind = 'deleted';
    else if (roll < 0.13) kind = 'image';
    const pool = phrases[dir];
    let text = kind === 'image' ? (rand() < 0.5 ? `${phrases.caption} #${i}` : null) : `${pool[Math.floor(rand() * pool.length)]} (#${i})`;
    if (kind === 'audio' || kind === 'deleted') text = null;
    const quote = kind === 'text' && lastText && rand() < 0.1 ? { author: dir === 'in' ? you : contact, text: lastText } : null;
    const hasPre = text !== null; // WhatsApp omits data-pre-plain-text on bare media/voice/deleted
    rows.push(messageRow({
      lang, id, dir, label: dir === 'out' ? you : contact, pre: hasPre ? pre : null, time, kind, quote,
      html: text ? richText(text, { emojis: EMOJIS }) : '', imageNo: i % 10,
    }));
    messages.push({
      id,
      direction: dir,
      author,
      timestamp: `${day.getFullYear()}-${pad(day.getMonth() + 1)}-${pad(day.getDate())}T${pad(hour)}:${pad(minute)}:00`,
      text,
      kind,
    });
    if (text) lastText = text;
  }

  const html = page({
    lang,
    comment: `Generated chat: ${count} messages, ${lang}, seed ${seed}${bareIds ? ', bare ids' : ''}`,
    title: contact,
    chats: [{ name: contact, preview: '…', time: clock(8, 0, lang), selected: true }],
    rows,
  });
  return {
    html,
    expected: {
      chat: { id: bareIds ? null : jid, title: contact, is_group: false, phone: bareIds ? null : '+5511955554444' },
      messages,
    },
  };
}

"""Prompt building and result parsing for the analysis tasks. Pure: no model, no I/O.

The prompt keeps everything that changes least first: fixed instructions, then the
conversation oldest first, then the short task. A new message only appends to the
conversation, so the model re-uses the evaluated prefix of the previous analysis.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from . import reply_check

SENTIMENTS = ("negative", "neutral", "positive")
INTENTS = (
    "purchase_pricing",
    "support_technical",
    "complaint",
    "scheduling",
    "cancellation",
    "order_status",
    "greeting_smalltalk",
    "other",
)
MAX_SUGGESTION_CHARS = 280
MAX_TRANSCRIPT_MESSAGES = 40
MAX_MESSAGE_CHARS = 500

SUGGESTION_SCHEMA = {
    "type": "object",
    "properties": {
        "suggestions": {"type": "array", "items": {"type": "string"}, "minItems": 3, "maxItems": 3},
        "summary": {"type": "string"},
    },
    "required": ["suggestions", "summary"],
}

# The schema above in compact GBNF. The output opens with SUGGESTION_PREFIX (given in the
# prompt), so the first generated token is already suggestion text; strings are one line and
# may not start with a space, which keeps a tiny model from padding with whitespace forever.
SUGGESTION_PREFIX = '{"suggestions": ["'
SUGGESTION_GRAMMAR = r"""
root ::= s "\", \"" s "\", \"" s "\"], \"summary\": \"" s "\"}"
s ::= [^"\\\x00-\x1f ] [^"\\\x00-\x1f]*
"""

# Words common in one language and not the other ("a", "do", "no" and "me" are both, so neither).
_PT_WORDS = set(
    "você voce vocês voces não nao sim obrigado obrigada olá ola oi bom dia boa tarde noite quero queria "
    "preço preco valor quanto pedido entrega prazo produto para com uma um é está estou tá pra por favor "
    "meu minha que de da dos das na tem têm vou já ainda mas também tambem o os e em foi ao se mais muito "
    "como até ate chegou compra bem antes ele ela isso esse essa aqui agora".split()
)
_EN_WORDS = set(
    "you your yes not thanks thank hello hi good morning afternoon want would price order delivery "
    "product the an is are am i my to for with please what when where how can could does have has "
    "will just still but also of in on it this that and was be we they get from at there any if or so "
    "about who why now all buy help out new tell dont don't what's that's thnx flight".split()
)

INSTRUCTIONS = {
    "pt": (
        "Você ajuda um atendente de uma pequena empresa a responder clientes no WhatsApp. "
        "Leia a conversa e sugira respostas curtas, educadas e úteis em português do Brasil. "
        "Nunca invente preços, links, telefones ou políticas que não estejam na conversa."
    ),
    "en": (
        "You help a small business attendant answer customers on WhatsApp. "
        "Read the conversation and suggest short, polite, helpful replies in English. "
        "Never invent prices, links, phone numbers or policies that are not in the conversation."
    ),
}
TASK = {
    "pt": "Tarefa: escreva 3 respostas diferentes que o atendente pode enviar agora, e um resumo de uma frase.",
    "en": "Task: write 3 different replies the attendant could send now, and a one-sentence summary.",
}
SPEAKERS = {"pt": ("Cliente", "Atendente"), "en": ("Customer", "Attendant")}

# Safe replies written by us, used when the model's own candidates break a rule.
FALLBACKS: dict[str, dict[str, list[str]]] = {
    "pt": {
        "purchase_pricing": [
            "Oi{nome}! Vou confirmar o valor e a disponibilidade para você e já te retorno.",
            "Claro{nome}! Posso te passar as opções de pagamento e entrega?",
        ],
        "support_technical": [
            "Sinto muito pelo problema{nome}. Pode me mandar uma foto ou mais detalhes para eu te ajudar?",
            "Vamos resolver isso juntos{nome}. O que aparece quando você tenta usar?",
        ],
        "complaint": [
            "Sinto muito pelo transtorno{nome}. Vou verificar o que aconteceu e te dou um retorno ainda hoje.",
            "Peço desculpas{nome}. Pode me passar o número do pedido para eu resolver isso?",
        ],
        "scheduling": [
            "Claro{nome}! Qual dia e horário ficam melhores para você?",
            "Vou verificar a agenda e já te passo os horários disponíveis.",
        ],
        "cancellation": [
            "Entendi{nome}. Pode me confirmar o número do pedido para eu verificar o cancelamento?",
            "Sinto muito que queira cancelar. Posso ajudar com alguma outra opção antes?",
        ],
        "order_status": [
            "Vou verificar o status do seu pedido agora mesmo{nome} e já te aviso.",
            "Pode me confirmar o número do pedido para eu consultar a entrega?",
        ],
        "greeting_smalltalk": [
            "Oi{nome}! Tudo bem? Como posso te ajudar hoje?",
            "Obrigado pelo contato{nome}! Fico à disposição.",
        ],
        "other": [
            "Obrigado pela mensagem{nome}! Vou verificar e já te respondo.",
            "Entendi{nome}. Pode me contar um pouco mais para eu te ajudar melhor?",
            "Fico à disposição{nome}. Qualquer dúvida é só chamar!",
        ],
    },
    "en": {
        "purchase_pricing": [
            "Hi{nome}! Let me confirm the price and availability for you.",
            "Sure{nome}! Would you like the payment and delivery options?",
        ],
        "support_technical": [
            "Sorry about the trouble{nome}. Could you send a photo or more details so I can help?",
            "Let's sort this out together{nome}. What happens when you try to use it?",
        ],
        "complaint": [
            "I'm sorry for the inconvenience{nome}. I'll look into what happened and get back to you today.",
            "My apologies{nome}. Could you share your order number so I can fix this?",
        ],
        "scheduling": [
            "Of course{nome}! Which day and time work best for you?",
            "Let me check the calendar and send you the available times.",
        ],
        "cancellation": [
            "Understood{nome}. Could you confirm your order number so I can check the cancellation?",
            "Sorry to hear you want to cancel. Is there anything else I can offer first?",
        ],
        "order_status": [
            "Let me check your order status right now{nome} and I'll let you know.",
            "Could you confirm your order number so I can track the delivery?",
        ],
        "greeting_smalltalk": [
            "Hi{nome}! How can I help you today?",
            "Thanks for reaching out{nome}! I'm here if you need anything.",
        ],
        "other": [
            "Thanks for your message{nome}! Let me check and get back to you.",
            "I see{nome}. Could you tell me a bit more so I can help?",
            "I'm here to help{nome}. Just let me know if you have any questions!",
        ],
    },
}

# Put first when the customer's mood calls for it: thanks for praise, an apology for a gripe
# that is not about a specific intent (complaint replies already apologise).
MOOD_FALLBACKS: dict[str, dict[str, list[str]]] = {
    "pt": {
        "positive": [
            "Que bom que gostou{nome}! Obrigado pela preferência.",
            "Ficamos muito felizes em saber{nome}! Qualquer coisa, é só chamar.",
        ],
        "negative": ["Sinto muito por isso{nome}. Pode me contar o que aconteceu para eu resolver?"],
    },
    "en": {
        "positive": [
            "So glad you liked it{nome}! Thanks for choosing us.",
            "That's great to hear{nome}! Just message us if you need anything.",
        ],
        "negative": ["I'm sorry about that{nome}. Could you tell me what happened so I can fix it?"],
    },
}
_MOOD_FIRST = {
    "positive": {"other", "greeting_smalltalk", "order_status", "purchase_pricing"},
    "negative": {"other", "greeting_smalltalk"},
}


@dataclass(frozen=True)
class Turn:
    direction: str  # "in" (customer) or "out" (attendant)
    text: str
    kind: str = "text"


def detect_language(texts: Iterable[str]) -> str:
    """'pt' or 'en' from the customer's words; pt-BR is the default for our users."""
    pt = en = 0
    for text in texts:
        for word in re.findall(r"[a-zà-ú']+", (text or "").lower()):
            pt += word in _PT_WORDS
            en += word in _EN_WORDS
        if re.search(r"[ãõçáéíóúâê]", (text or "").lower()):
            pt += 1
    return "en" if en > pt else "pt"


def turns_from_messages(messages: Iterable[dict]) -> list[Turn]:
    out = []
    for m in messages:
        if m.get("kind") == "system":
            continue
        text = m.get("text")
        if not text:
            text = {"image": "[imagem]", "audio": "[áudio]", "deleted": "[mensagem apagada]"}.get(m.get("kind", ""), "")
        if text:
            out.append(Turn(m["direction"], text[:MAX_MESSAGE_CHARS], m.get("kind", "text")))
    return out[-MAX_TRANSCRIPT_MESSAGES:]


def customer_text(turns: list[Turn], last: int = 3) -> str:
    """The customer's latest run of messages: what labels are computed on."""
    out: list[str] = []
    for t in reversed(turns):
        if t.direction == "in":
            out.append(t.text)
            if len(out) >= last:
                break
        elif out:
            break
    return "\n".join(reversed(out))


def chat_messages(turns: list[Turn], lang: str) -> list[dict[str, str]]:
    """System instructions + one user turn: transcript (stable) then the task (changes least)."""
    customer, attendant = SPEAKERS[lang]
    lines = [f"{customer if t.direction == 'in' else attendant}: {t.text}" for t in turns]
    head = "Conversa:" if lang == "pt" else "Conversation:"
    user = head + "\n" + "\n".join(lines) + "\n\n" + TASK[lang]
    return [{"role": "system", "content": INSTRUCTIONS[lang]}, {"role": "user", "content": user}]


# -- streaming output ----------------------------------------------------------------------
_ESCAPES = {"n": "\n", "t": "\t", '"': '"', "\\": "\\", "/": "/", "r": "", "b": "", "f": ""}


def partial_suggestions(raw: str) -> list[str]:
    """Suggestion strings found so far in partial JSON output (the last may be incomplete)."""
    m = re.search(r'"suggestions"\s*:\s*\[', raw)
    if not m:
        return []
    out: list[str] = []
    i = m.end()
    n = len(raw)
    while i < n:
        c = raw[i]
        if c == "]":
            break
        if c != '"':
            i += 1
            continue
        i += 1
        buf = []
        while i < n and raw[i] != '"':
            if raw[i] == "\\" and i + 1 < n:
                nxt = raw[i + 1]
                if nxt == "u" and i + 5 < n:
                    try:
                        buf.append(chr(int(raw[i + 2 : i + 6], 16)))
                    except ValueError:
                        pass
                    i += 6
                    continue
                buf.append(_ESCAPES.get(nxt, nxt))
                i += 2
                continue
            if raw[i] == "\\":
                break
            buf.append(raw[i])
            i += 1
        out.append("".join(buf))
        i += 1
    return out


# -- rules for suggestions -----------------------------------------------------------------
_NUMBER = re.compile(r"\d[\d.,/-]*\d|\d")
_LINK = re.compile(r"(https?://\S+|www\.\S+|\b[\w-]+\.(?:com|br|net|org|io)(?:\.br)?\S*)", re.I)


def _norm(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(c for c in text if not unicodedata.combining(c))
    return re.sub(r"\W+", " ", text).strip()


def invented_facts(suggestion: str, allowed_text: str) -> list[str]:
    """Numbers and links in a suggestion that appear nowhere in the conversation or quick replies."""
    allowed = allowed_text.lower()
    allowed_digits = re.sub(r"\D", "", allowed)
    bad = [link for link in _LINK.findall(suggestion) if link.lower().rstrip(".,!?") not in allowed]
    for num in _NUMBER.findall(suggestion):
        digits = re.sub(r"\D", "", num)
        if num not in allowed and digits not in allowed_digits:
            bad.append(num)
    return bad


def is_echo(suggestion: str, customer_texts: Iterable[str]) -> bool:
    s = _norm(suggestion)
    for text in customer_texts:
        t = _norm(text)
        if not t:
            continue
        if s == t or (len(t) > 12 and t in s) or SequenceMatcher(None, s, t).ratio() > 0.8:
            return True
    return False


def clean_suggestion(text: str) -> str:
    text = re.sub(r"\s+\n", "\n", text).strip().strip('"').strip()
    if len(text) > MAX_SUGGESTION_CHARS:
        cut = text[:MAX_SUGGESTION_CHARS]
        stop = max(cut.rfind(". "), cut.rfind("! "), cut.rfind("? "))
        text = cut[: stop + 1] if stop > 40 else cut.rsplit(" ", 1)[0] + "…"
    return text


def looks_like_prose(text: str) -> bool:
    """Rejects markup, placeholders and symbol soup that tiny models emit."""
    if re.search(r"[{}\[\]<>`|\\]|https?:/?$", text):
        return False
    letters = sum(c.isalpha() for c in text)
    return letters >= 0.6 * len(text.replace(" ", "")) and len(text.split()) >= 2


def suggestion_ok(text: str, lang: str, turns: list[Turn], extra_allowed: str = "") -> bool:
    if len(text) < 3 or len(text) > MAX_SUGGESTION_CHARS or not looks_like_prose(text):
        return False
    if detect_language([text]) != lang and len(text.split()) > 3:
        return False
    customer = [t.text for t in turns if t.direction == "in"]
    if is_echo(text, customer):
        return False
    allowed = "\n".join(t.text for t in turns) + "\n" + extra_allowed
    return not invented_facts(text, allowed)


def first_name(name: str | None) -> str:
    if not name:
        return ""
    word = re.split(r"\s+", name.strip())[0]
    return word if word.isalpha() else ""


def fill_variables(text: str, name: str | None) -> str:
    return text.replace("{nome}", first_name(name)).replace("{name}", first_name(name))


def finalize_suggestions(
    candidates: list[str],
    lang: str,
    intent: str,
    turns: list[Turn],
    contact_name: str | None = None,
    extra: list[str] | None = None,
    sentiment: str | None = None,
) -> list[str]:
    """Exactly 3 distinct replies that keep every rule: quick replies, the model's valid ones, then ours."""
    final = finalize_with_sources(candidates, lang, intent, turns, contact_name, extra, sentiment)
    return [text for text, _ in final]


def finalize_with_sources(
    candidates: list[str],
    lang: str,
    intent: str,
    turns: list[Turn],
    contact_name: str | None = None,
    extra: list[str] | None = None,
    sentiment: str | None = None,
) -> list[tuple[str, str]]:
    """As `finalize_suggestions`, with where each reply came from: quick_reply, model or template."""
    extra = extra or []
    allowed_extra = "\n".join(extra)
    out: list[tuple[str, str]] = []
    seen: set[str] = set()

    ours = [t for group in (FALLBACKS, MOOD_FALLBACKS) for texts in group[lang].values() for t in texts]
    mood = MOOD_FALLBACKS[lang].get(sentiment or "", []) if intent in _MOOD_FIRST.get(sentiment or "", ()) else []
    if intent not in ("other", "greeting_smalltalk"):
        mood = mood[:1]  # the intent's own replies still come next
    known = reply_check.vocabulary(lang, [t.text for t in turns] + extra + ours + [contact_name or ""])
    topic = reply_check.words_of([t.text for t in turns] + FALLBACKS[lang].get(intent, []) + mood)

    def add(text: str, source: str) -> None:
        text = clean_suggestion(text)
        key = _norm(text)
        if not key or key in seen or len(out) >= 3:
            return
        if any(SequenceMatcher(None, key, s).ratio() > 0.85 for s in seen):
            return
        if source == "model" and (
            is_echo(text, [t.text for t in turns]) or not reply_check.reads_well(text, lang, known, topic)
        ):
            return
        if suggestion_ok(text, lang, turns, allowed_extra):
            out.append((text, source))
            seen.add(key)

    for text in extra:
        add(text, "quick_reply")
    for text in candidates:
        add(text, "model")
    nome = first_name(contact_name)
    pool = mood + FALLBACKS[lang].get(intent, []) + FALLBACKS[lang]["other"]
    for text in pool:
        add(text.replace("{nome}", f", {nome}" if nome else ""), "template")
    return out


_SENT_WORDS = {
    "pt": {"negative": "insatisfeito", "neutral": "neutro", "positive": "satisfeito"},
    "en": {"negative": "unhappy", "neutral": "neutral", "positive": "happy"},
}
_INTENT_WORDS = {
    "pt": {
        "purchase_pricing": "compra ou preço",
        "support_technical": "suporte técnico",
        "complaint": "reclamação",
        "scheduling": "agendamento",
        "cancellation": "cancelamento",
        "order_status": "status do pedido",
        "greeting_smalltalk": "cumprimento",
        "other": "outro assunto",
    },
    "en": {
        "purchase_pricing": "buying or pricing",
        "support_technical": "technical support",
        "complaint": "a complaint",
        "scheduling": "scheduling",
        "cancellation": "a cancellation",
        "order_status": "order status",
        "greeting_smalltalk": "a greeting",
        "other": "another topic",
    },
}


def fallback_summary(turns: list[Turn], lang: str, labels: dict) -> str:
    """A factual one-liner when the model's summary is unusable."""
    s = _SENT_WORDS[lang].get(labels["sentiment"]["label"], "")
    i = _INTENT_WORDS[lang].get(labels["intent"]["label"], "")
    n = sum(1 for t in turns if t.direction == "in")
    if lang == "pt":
        return f"Cliente {s}, assunto: {i} ({n} mensagens do cliente)."
    return f"Customer seems {s}; topic: {i} ({n} customer messages)."

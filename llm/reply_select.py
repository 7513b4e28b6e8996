"""Choosing the 3 replies offered: quick replies, the model's replies that keep every rule, ours."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from difflib import SequenceMatcher

from . import reply_check
from .language import detect_language
from .prompts import MAX_SUGGESTION_CHARS, Turn

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

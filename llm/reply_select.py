"""Choosing the 3 replies offered: quick replies, the model's replies that keep every rule, ours."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from difflib import SequenceMatcher

from . import reply_check
from .language import detect_language
from .prompts import MAX_SUGGESTION_CHARS, Turn, customer_run
from .retrieval import terms

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
            "Vou verificar o status do seu pedido agora mesmo e já te aviso{nome}.",
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
            "Let me check your order status right now and I'll let you know{nome}.",
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


@dataclass(frozen=True)
class Suggestion:
    text: str
    source: str  # team | knowledge | quick_reply | model | template
    citations: tuple[tuple[str, str], ...] = ()  # (passage id, title)


# What a reply does, so the three offered differ in purpose (answer, ask, close kindly…).
_ASK = re.compile(r"\?")
_THANKS = re.compile(r"obrigad|que bom|feliz|agradec|disposi|thank|glad|great to hear|here if you need", re.I)
_APOLOGY = re.compile(r"desculp|sinto muito|lament|sorry|apolog", re.I)
_CHECK = re.compile(
    r"\b(vou|vamos|irei)\s+(verificar|confirmar|checar|consultar)\b|\blet me (check|confirm|look)|\bi'?ll (check|look)",
    re.I,
)
# Moves that are wrong at some moments (issue 13): a sales or retention pitch to an unhappy customer.
_SALES = re.compile(
    r"opç(ões|ão) de pagamento|formas de pagamento|aproveite|promoç|payment and delivery options|special offer", re.I
)
_RETENTION = re.compile(
    r"outra opção antes|antes de cancelar|nova compra|considere|anything else i can offer|reconsider", re.I
)
# The customer's moment, read from their own words.
_REFUND = re.compile(
    r"reembols|estorn|devolu[çc][ãa]o do dinheiro|devolver o dinheiro|dinheiro de volta|depositar|depositaram|"
    r"meu dinheiro|refund|money back",
    re.I,
)
_WRONG_ITEM = re.compile(
    r"errad|faltando|faltou|falta(va)? |n[ãa]o veio|s[óo] veio|veio s[óo]|n[ãa]o (foi|foram) entregue|"
    r"s[óo] foi entregue|incompat[ií]vel|diferente do|wrong item|missing|damaged|broken",
    re.I,
)
# Praise in so many words, and the words that would make it a complaint after all: the tiny
# model's sentiment label alone is too noisy to decide that "vou verificar" is wrong.
_PRAISE = re.compile(
    r"\b(amei|adorei|[óo]tim[oa]|excelente|recomendo|perfeit[oa]|maravilh\w*|lind[oa]|obrigad[oa]|agrade[çc]o|"
    r"r[áa]pid[oa]|super bem|tudo certo|love[d]?|great|excellent|amazing|perfect|thanks?|thank you)\b",
    re.I,
)
_GRIPE = re.compile(
    r"\b(n[ãa]o|nunca|nem|pior|p[ée]ssim[oa]|ruim|horr[íi]vel|defeito|problema|demora|atras\w*|not|never|worst|"
    r"awful|terrible|bad|broken|late)\b",
    re.I,
)
_ASKS = re.compile(
    r"\?|\b(quando|quanto|qual|onde|como (?:faço|faco|fica|posso|funciona)|pode|posso|quero|queria|gostaria|"
    r"preciso|when|how|what(?! an?\b)|where|can|could|i want|i need)\b",
    re.I,
)
# The attendant committing to do something ("vou montar a lista", "I'll send it").
_PROMISE = re.compile(r"\b(vou|vamos|irei)\s+\w+r\b|\blet me \w+|\bi'?ll \w+|\bwe'?ll \w+", re.I)
_ORDER_ASK = re.compile(r"n[úu]mero do pedido|order number", re.I)
LOW_CONFIDENCE = 0.45  # below it the intent's own templates assume too much: ask first

REMEDIES: dict[str, dict[str, str]] = {
    "pt": {
        "refund": "Sinto muito pelo transtorno{nome}. Vou cuidar do seu reembolso: pode me passar o número do pedido?",
        "wrong_item": "Sinto muito pelo erro{nome}! Pode me mandar o número do pedido e uma foto? "
        "Enviamos o item certo sem custo.",
    },
    "en": {
        "refund": "I'm sorry for the trouble{nome}. I'll take care of your refund: "
        "could you send me your order number?",
        "wrong_item": "Sorry for the mix-up{nome}! Could you send your order number and a photo? "
        "We'll send the right item at no cost.",
    },
}
_GREETING_NAME = re.compile(
    r"^((?i:oi|olá|ola|bom dia|boa tarde|boa noite|obrigad[oa]|hi|hello|hey|thanks)[,!]?\s+)([A-ZÀ-Ý][a-zà-ÿ]+)\b"
)
_TRAILING_NAME = re.compile(r",\s+([A-ZÀ-Ý][a-zà-ÿ]+)(?=[!.?])")


def purpose(text: str, source: str) -> str:
    if source == "knowledge" or source == "answer":
        return "answer"
    if _ASK.search(text):
        return "ask"
    if _APOLOGY.search(text):
        return "apology"
    if _CHECK.search(text):
        return "check"
    if _THANKS.search(text):
        return "close"
    return "other"


# Words that say nothing about what a turn asks ("vocês têm…?", "quero…"), on top of retrieval's
# stopwords: one shared content word ("receber", "vestido") matched turns that asked different
# things (tune split: "tudo recebido como combinado" → a reply about picking up in the shop).
_PLAIN_TERMS = frozenset(terms("voces vcs quero queria posso pode podem poderia gostaria consigo preciso "
                               "tudo gente favor can could would like please want need"))


def similar_turn(past: str, now: str) -> bool:
    """The customer turn a team reply answered asks what this one asks: two content words shared."""
    shared = (set(terms(past)) & set(terms(now))) - _PLAIN_TERMS
    return len(shared) >= 2


def adapt_names(text: str, contact_name: str | None) -> str:
    """Another chat's reply with that customer's name replaced by this one's (or dropped). The
    team's stored replies carry it masked as ``{nome}`` (desktop/contact_facts.py)."""
    name = first_name(contact_name)
    text = re.sub(r"(,\s*)?\{nome\}", lambda m: (m.group(1) or "") + name if name else "", text)

    def greet(m: re.Match) -> str:
        return m.group(1) + name if name else m.group(1).rstrip(" ,")

    text = _GREETING_NAME.sub(greet, text, count=1)
    text = _TRAILING_NAME.sub(lambda m: f", {name}" if name else "", text)
    return re.sub(r"\s+([!?.,])", r"\1", text).strip()


@dataclass(frozen=True)
class Moment:
    praise: bool  # a happy customer who asks nothing
    refund: bool
    wrong_item: bool
    unhappy: bool
    low_confidence: bool
    asks: bool  # the customer's latest run asks or requests something (or has an intent that does)
    recent_out: tuple[str, ...]  # what the attendant just said


def read_moment(
    turns: list[Turn], sentiment: str | None, confidence: float | None, intent: str | None = None
) -> Moment:
    said = " ".join(reversed(customer_run(turns)))  # newest first
    asks = bool(_ASKS.search(said))
    last_in = max((i for i, t in enumerate(turns) if t.direction == "in"), default=-1)
    before = [t.text for t in turns[:last_in] if t.direction == "out"][-1:]
    after = [t.text for t in turns[last_in + 1 :] if t.direction == "out"]
    refund = bool(_REFUND.search(said))
    wrong = bool(_WRONG_ITEM.search(said))
    praised = bool(_PRAISE.search(said)) and not _GRIPE.search(said)
    praise = (sentiment == "positive" or praised) and not asks and not refund and not wrong
    return Moment(
        praise=praise,
        refund=refund,
        wrong_item=wrong,
        unhappy=(sentiment == "negative" and not praise) or refund or wrong,
        low_confidence=confidence is not None and confidence < LOW_CONFIDENCE,
        asks=asks or intent not in ("other", "greeting_smalltalk"),
        recent_out=tuple(before + after),
    )


def wrong_for_moment(text: str, moment: Moment) -> bool:
    """Moves a demanding manager would strike out at this moment."""
    if moment.praise and (_CHECK.search(text) or _ORDER_ASK.search(text)):
        return True  # "vou verificar" or "o número do pedido?" after praise
    if not moment.asks and not moment.unhappy and _CHECK.search(text) and not _ASK.search(text):
        return True  # nothing was asked: nothing to look into
    if moment.unhappy and (_SALES.search(text) or _RETENTION.search(text)):
        return True
    if (moment.refund or moment.unhappy) and _CHECK.search(text) and not (_ASK.search(text) or _APOLOGY.search(text)):
        return True  # "vou verificar" alone to someone owed money or upset: no apology, nothing asked
    if _CHECK.search(text) and not _ASK.search(text) and any(_PROMISE.search(o) for o in moment.recent_out):
        return True  # the attendant already said what they will do: a second bare promise adds nothing
    return any(SequenceMatcher(None, _norm(text), _norm(o)).ratio() > 0.8 for o in moment.recent_out)


def rank_replies(
    candidates: list[str],
    lang: str,
    intent: str,
    turns: list[Turn],
    contact_name: str | None = None,
    extra: list[str] | None = None,
    sentiment: str | None = None,
    *,
    answers: list[Suggestion] | None = None,
    team: list[tuple[str, str | None, str]] | None = None,
    allowed: str = "",
    confidence: float | None = None,
) -> list[Suggestion]:
    """Exactly 3 replies for this moment, distinct in purpose where possible.

    Candidates come, best first, from: answers built by code from the shop's knowledge or
    this chat's facts (``answers``), a remedy for a refund or a wrong item, the team's quick
    replies (``extra``), the team's past replies (``team``: (text, intent, the customer turn it
    answered), offered only for a similar turn of the same or no intent), the model, then our
    templates. Each must keep every rule (language, no echo, no number/link that the chat, the
    quick replies or ``allowed`` — the retrieved passages — lack) and not be wrong for the
    moment (``wrong_for_moment``)."""
    extra = extra or []
    answers = answers or []
    team = team or []
    moment = read_moment(turns, sentiment, confidence, intent)
    allowed_extra = "\n".join([*extra, allowed, *(a.text for a in answers)])
    nome = first_name(contact_name)

    ours = [t for group in (FALLBACKS, MOOD_FALLBACKS) for texts in group[lang].values() for t in texts]
    mood = MOOD_FALLBACKS[lang].get(sentiment or "", []) if intent in _MOOD_FIRST.get(sentiment or "", ()) else []
    if intent not in ("other", "greeting_smalltalk"):
        mood = mood[:1]  # the intent's own replies still come next
    known = reply_check.vocabulary(
        lang, [t.text for t in turns] + extra + ours + [contact_name or "", allowed] + [t for t, _, _ in team]
    )
    topic = reply_check.words_of([t.text for t in turns] + FALLBACKS[lang].get(intent, []) + mood + [allowed])

    ranked: list[Suggestion] = list(answers)
    remedy = REMEDIES[lang]
    if moment.refund:
        ranked.append(Suggestion(remedy["refund"], "template"))
    elif moment.wrong_item:
        ranked.append(Suggestion(remedy["wrong_item"], "template"))
    ranked += [Suggestion(t, "quick_reply") for t in extra]
    said = " ".join(customer_run(turns))
    # A pair captured with its reply already there was never analysed on its own: intent None.
    same = [t for t, i, past in team if i in (None, intent) and similar_turn(past, said)]
    ranked += [Suggestion(adapt_names(t, contact_name), "team") for t in same]
    ranked += [Suggestion(t, "model") for t in candidates]
    own = FALLBACKS[lang].get(intent, [])
    asking = [t for t in FALLBACKS[lang]["other"] if "?" in t]
    if moment.praise:  # thanks and a kind close, whatever the intent
        mood = MOOD_FALLBACKS[lang]["positive"] + FALLBACKS[lang]["greeting_smalltalk"][1:]
    pool = mood + (asking + own if moment.low_confidence and not answers else own) + FALLBACKS[lang]["other"]
    pool += FALLBACKS[lang]["greeting_smalltalk"][1:]  # a kind close: always a third reply
    ranked += [Suggestion(t, "template") for t in pool]

    valid: list[Suggestion] = []
    seen: list[str] = []
    for s in ranked:
        text = s.text.replace("{nome}", f", {nome}" if nome else "") if s.source == "template" else s.text
        text = clean_suggestion(text)
        key = _norm(text)
        if not key or key in seen or any(SequenceMatcher(None, key, k).ratio() > 0.85 for k in seen):
            continue
        if s.source in ("model", "team") and (
            is_echo(text, [t.text for t in turns]) or not reply_check.reads_well(text, lang, known, topic)
        ):
            continue
        if answers and s not in answers and _CHECK.search(text) and not _ASK.search(text):
            continue  # the fact is known: "vou confirmar o valor" would contradict the answer offered
        if (s.source != "knowledge" and s not in answers and wrong_for_moment(text, moment)) or not suggestion_ok(
            text, lang, turns, allowed_extra
        ):
            continue
        valid.append(Suggestion(text, s.source, s.citations))
        seen.append(key)

    out: list[Suggestion] = []
    used: set[str] = set()
    for s in valid:  # first pass: one of each purpose, in rank order
        p = purpose(s.text, s.source)
        if p not in used or p == "other":
            out.append(s)
            used.add(p)
        if len(out) == 3:
            return out
    for s in valid:
        if s not in out:
            out.append(s)
        if len(out) == 3:
            break
    order = {id(s): i for i, s in enumerate(valid)}
    return sorted(out, key=lambda s: order[id(s)])


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
    return [(s.text, s.source) for s in rank_replies(candidates, lang, intent, turns, contact_name, extra, sentiment)]

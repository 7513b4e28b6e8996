"""The one-line summary shown to the attendant: the model's, when it reads well, else ours.

The default model's summaries are often fluent nonsense ("Esteja lado de te outra entrega no
pago! Parabéis o ameus…"). A model summary is shown only when it passes a check of the same
kind as the suggestions' (``reply_check``): known words, no number or link the conversation
lacks, prose rather than symbols, about this conversation. Otherwise the summary is built
without the model from the conversation's own words: what the customer asks for (quoted),
the order numbers, amounts and dates mentioned, and the attendant's last promise (quoted).
"""

from __future__ import annotations

import re

from . import chat_facts, reply_check
from .language import detect_language
from .prompts import Turn
from .reply_select import clean_suggestion, invented_facts, looks_like_prose

MAX_QUOTE_CHARS = 120
MAX_SUMMARY_CHARS = 400

# The words of our own summary frame: known words for the check.
_FRAME = {
    "pt": "Cliente pede escreveu Pedido Pedidos Valor Valores Data Datas Atendente prometeu "
    "mensagem mensagens do cliente Em aberto resposta ao",
    "en": "Customer asks wrote Order Orders Amount Amounts Date Dates Attendant promised customer message messages "
    "Open awaits a reply",
}
_REQUEST = {
    "pt": re.compile(
        r"\?|\b(quero|queria|gostaria|preciso|precisava|pode|poderia|podem|consegue|conseguem|tem como|"
        r"me (?:manda|mande|envia|envie|passa|passe|fala|diga)|qual|quais|quanto|quantos|quando|onde|"
        r"como (?:faço|faco|fica|posso|funciona|assim))\b",
        re.I,
    ),
    "en": re.compile(
        r"\?|\b(i want|i'd like|i would like|i need|can you|could you|would you|please|do you|is there|"
        r"what|when|where|how|which)\b",
        re.I,
    ),
}
_PROMISE = {
    "pt": re.compile(
        r"\b(vou|vamos|irei|iremos|\w{3,}(?:arei|erei|irei|aremos|eremos|iremos)|já te|te (?:retorno|aviso|"
        r"envio|mando|passo|ligo|chamo)|sai(?:rá)? (?:hoje|amanhã)|chega(?:rá)?|entregamos|enviamos|"
        r"fica pronto|ficará pronto|separad[oa]|reservad[oa]|"
        r"até (?:amanhã|hoje|dia \d|\d|segunda|terça|quarta|quinta|sexta|sábado|domingo|o fim do dia))\b",
        re.I,
    ),
    "en": re.compile(
        r"\b(i'll|we'll|i will|we will|will be|will get|going to|get back to you|let you know|ships?|"
        r"arrives?|on hold|set aside|reserved|"
        r"(?:by|until) (?:tomorrow|today|monday|tuesday|wednesday|thursday|friday|saturday|sunday|end of day|\d))\b",
        re.I,
    ),
}
# A greeting asks nothing ("Oi, tudo bem?"): never quoted as the request.
_GREETING_WORDS = set(
    "oi ola ei tudo bem bom boa dia tarde noite e ai como vai voce hi hello hey how are you good morning "
    "afternoon evening there".split()
)
_COUNT = re.compile(r"\(\d+ (?:mensagens? do cliente|customer messages?)\)")  # ours, not a fact
_SENTENCE = re.compile(r"(?<=[.!?…])\s+|\n+")


def _sentences(text: str) -> list[str]:
    return [s.strip(" •-") for s in _SENTENCE.split(text or "") if s.strip(" •-")]


def _quote(text: str) -> str:
    text = re.sub(r"[{}\[\]<>`|\\\"“”]", "", re.sub(r"\s+", " ", text)).strip()
    if len(text) > MAX_QUOTE_CHARS:
        text = text[:MAX_QUOTE_CHARS].rsplit(" ", 1)[0] + "…"
    return f"“{text}”"


def _latest(turns: list[Turn], direction: str, pattern: re.Pattern, whole: bool = False) -> str:
    """The latest sentence of ``direction`` that matches (``whole``: its message, when short)."""
    for t in reversed(turns):
        if t.direction != direction or t.kind != "text":
            continue
        for sentence in reversed(_sentences(t.text)):
            words = reply_check.normalise_words(sentence)
            if pattern.search(sentence) and len(words) >= 2 and not set(words) <= _GREETING_WORDS:
                message = " ".join(_sentences(t.text))
                return message if whole and len(message) <= MAX_QUOTE_CHARS else sentence
    return ""


def _listing(items: list[str], lang: str) -> str:
    if len(items) == 1:
        return items[0]
    return ", ".join(items[:-1]) + (" e " if lang == "pt" else " and ") + items[-1]


def _count(n: int, lang: str) -> str:
    if lang == "pt":
        return f"{n} mensagem do cliente" if n == 1 else f"{n} mensagens do cliente"
    return f"{n} customer message" if n == 1 else f"{n} customer messages"


def extractive_summary(turns: list[Turn], lang: str) -> str:
    """A summary made only of the conversation's own words and facts, in ``lang`` ("pt"/"en")."""
    pt = lang == "pt"
    parts: list[str] = []
    request = _latest(turns, "in", _REQUEST[lang], whole=True)
    asks = bool(request)
    if not request:  # praise or a remark: quoted as what they wrote, not as a request
        latest_in = next((t.text for t in reversed(turns) if t.direction == "in" and t.kind == "text"), "")
        request = (_sentences(latest_in) or [""])[-1]
    if request:
        if pt:
            label = "Cliente pede: " if asks else "Cliente escreveu: "
        else:
            label = "Customer asks: " if asks else "Customer wrote: "
        parts.append(label + _quote(request))
    texts = [t.text for t in turns]
    for found, one, many in (
        (chat_facts.order_numbers(texts)[:3], ("Pedido", "Order"), ("Pedidos", "Orders")),
        (chat_facts.amounts(texts)[:3], ("Valor", "Amount"), ("Valores", "Amounts")),
        (chat_facts.dates(texts)[:3], ("Data", "Date"), ("Datas", "Dates")),
    ):
        if found:
            word = (one if len(found) == 1 else many)[0 if pt else 1]
            parts.append(f"{word}: {_listing(found, lang)}.")
    promise = _latest(turns, "out", _PROMISE[lang])
    if promise:
        parts.append(("Atendente prometeu: " if pt else "Attendant promised: ") + _quote(promise))
    last = next((t for t in reversed(turns) if t.kind == "text"), None)
    if last is not None and last.direction == "in" and _REQUEST[lang].search(last.text):  # not answered yet
        parts.append("Em aberto: resposta ao cliente." if pt else "Open: the customer awaits a reply.")
    n = sum(1 for t in turns if t.direction == "in")
    parts.append(f"({_count(n, lang)})")
    text = " ".join(parts)
    if len(text) > MAX_SUMMARY_CHARS:
        text = text[: MAX_SUMMARY_CHARS - 1].rsplit(" ", 1)[0] + "…"
    return text


def summary_ok(text: str, lang: str, turns: list[Turn]) -> bool:
    """Whether a summary is fit to show: the check a model's summary must pass."""
    text = text.strip()
    if not text or len(text) > MAX_SUMMARY_CHARS or not looks_like_prose(text):
        return False
    if len(text.split()) > 3 and detect_language([text]) != lang:
        return False
    conversation = [t.text for t in turns]
    if invented_facts(_COUNT.sub("", text), "\n".join(conversation)):
        return False
    known = reply_check.vocabulary(lang, conversation + [_FRAME[lang]])
    return reply_check.summary_reads_well(text, lang, known, reply_check.words_of(conversation))


def choose_summary(model_text: str, turns: list[Turn], lang: str) -> tuple[str, str]:
    """(summary, "model" | "extractive"): the model's text only when it passes ``summary_ok``."""
    text = clean_suggestion(model_text or "")
    if text and summary_ok(text, lang, turns):
        return text, "model"
    return extractive_summary(turns, lang), "extractive"

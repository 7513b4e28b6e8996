"""Answers to a customer's factual question, built by code from what is known for sure.

Three sources, tried in this order: what the attendant already said in this chat (a freight
or price stated earlier is repeated, not re-asked), a catalogue row (product, price, stock),
and a FAQ/policy passage (its best sentences, copied). Arithmetic the customer asks for
("o vestido de R$ 200 no pix fica quanto?" with a 5 % Pix discount) is computed here, never by
the model. Nothing is answered when the sources do not cover the question's words: a reply
that asks or promises to check is better than a confident answer about something else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from .prompts import Turn, customer_run
from .retrieval import fold, terms
from .sources import Passage

# Topic of a question → words that name it (folded, matched as word prefixes).
TOPICS: dict[str, tuple[str, ...]] = {
    "freight": ("frete", "entreg", "envio", "shipping", "delivery", "prazo"),
    "exchange": ("troc", "devol", "exchange", "return"),
    "pix": ("pix",),
    "instalments": ("parcel", "vezes", "cartao", "credito", "installment"),
    "hours": ("horario", "abre", "abrem", "fecha", "fecham", "funciona", "aberto", "hours", "open"),
    "price": ("quanto", "preco", "valor", "custa", "price", "cost", "how much"),
}
_QUESTION = re.compile(
    r"\?|\b(quanto|qual|quais|quando|onde|como|tem|têm|vocês|voces|vcs|pode|posso|dá|da pra|aceitam|"
    r"how|what|when|where|do you|can i|is there)\b",
    re.I,
)
# Words of a question that carry no fact to look up (folded, stemmed by ``terms``).
_CHATTER = set(
    terms(
        "quanto quanta custa custo preço preco valor fica sai tá está esta estão ainda mesmo então entao "
        "vocês voces vcs você pode posso podem dá pra para queria quero gostaria saber comprar comprei compra "
        "semana passada ontem hoje amanhã agora depois até quando qual quais onde como que partir acima "
        "disponível disponivel disponíveis estoque tem têm ter tenho temos voltei aceitam aceita "
        "oi olá ola bom dia boa tarde noite obrigado obrigada era é são loja produto produtos "
        "abre abrem abertos fecha fecham funciona horário horario horas durante "
        "desconto frete entrega trocar troca parcelar parcela vezes cartão pix "
        "how much what when where is are do does you your can could price cost have still"
    )
)
# "para todo o Brasil" covers any Brazilian place a customer names.
_BR_PLACES = set(
    terms(
        "brasil sao paulo rio janeiro minas gerais bahia parana curitiba porto alegre santa catarina "
        "florianopolis recife fortaleza salvador belo horizonte brasilia goias goiania manaus belem "
        "campinas santos vitoria espirito santo natal joao pessoa maceio aracaju teresina sao luis "
        "cuiaba campo grande palmas macapa boa vista rio branco porto velho pernambuco ceara"
    )
)
_PERCENT = re.compile(r"(\d{1,2}(?:[.,]\d+)?)\s?%")
_MONEY = re.compile(r"(?:R\$|\$)\s?(\d{1,3}(?:\.\d{3})*(?:,\d{1,2})?|\d+(?:[.,]\d{1,2})?)")
_SENTENCE = re.compile(r"(?<=[.!?])\s+|\n+")

_FIELD_NAMES = {
    "product": ("produto", "product", "nome", "name", "item"),
    "price": ("preco", "price", "valor"),
    "stock": ("estoque", "stock", "quantidade", "qtd", "qty"),
}


@dataclass(frozen=True)
class Answer:
    text: str
    source: str  # "knowledge" (a passage) or "template" (built from this chat's own words)
    citations: tuple[Passage, ...] = ()


def topics(question: str) -> set[str]:
    folded = fold(question)
    words = re.findall(r"[a-z0-9]+", folded)
    found = {t for t, keys in TOPICS.items() if any(w.startswith(k) for w in words for k in keys if " " not in k)}
    if "how much" in folded:
        found.add("price")
    return found


def is_question(text: str) -> bool:
    return bool(_QUESTION.search(text))


def _field(fields: dict[str, str], kind: str) -> str | None:
    for key, value in fields.items():
        if fold(key).strip() in _FIELD_NAMES[kind]:
            return value.strip()
    return None


def _money(text: str) -> Decimal | None:
    m = _MONEY.search(text)
    if not m:
        return None
    raw = m.group(1)
    raw = raw.replace(".", "").replace(",", ".") if "," in raw else raw
    try:
        return Decimal(raw)
    except ArithmeticError:
        return None


def format_brl(value: Decimal) -> str:
    q = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    whole, cents = f"{q:.2f}".split(".")
    return f"R$ {int(whole):,}".replace(",", ".") + f",{cents}"


def _units(n: int, lang: str) -> str:
    if lang == "pt":
        return f"{n} unidade" if n == 1 else f"{n} unidades"
    return f"{n} unit" if n == 1 else f"{n} units"


def matching_row(question: str, passages: list[Passage]) -> Passage | None:
    """The catalogue row whose product name the question names in full: most words, then
    most words written exactly as in the question (stems collide: "saia" and "sai")."""
    q = set(terms(question))
    exact = set(re.findall(r"[a-z0-9]+", fold(question)))
    best, best_key = None, (0, 0)
    for p in passages:
        product = _field(p.fields, "product") if p.fields else None
        if not product:
            continue
        words = set(terms(product))
        key = (len(words), len(set(re.findall(r"[a-z0-9]+", fold(product))) & exact))
        if words and words <= q and key > best_key:
            best, best_key = p, key
    return best


def _uncovered(question: str, text: str) -> bool:
    """Whether ``text`` misses a fact word of the question: a name or code the customer wrote
    ("Portugal", "GG"), or two or more ordinary words."""
    have = set(terms(text))
    brazil = "brasil" in have
    missing = 0
    for i, word in enumerate(re.findall(r"[\wÀ-ÿ]+", question)):
        ts = [t for t in terms(word) if t not in have and t not in _CHATTER and not (brazil and t in _BR_PLACES)]
        if not ts:
            continue
        if (word[0].isupper() and i > 0) or (len(word) > 1 and word.isupper()) or any(c.isdigit() for c in word):
            return True
        missing += 1
    return missing >= 2


def _percent_off(texts: list[str]) -> tuple[Decimal, str] | None:
    """A Pix discount stated in these texts: (percent, its text)."""
    for text in texts:
        for sentence in _SENTENCE.split(text):
            if "pix" in fold(sentence) and "desconto" in fold(sentence):
                m = _PERCENT.search(sentence)
                if m:
                    return Decimal(m.group(1).replace(",", ".")), m.group(0)
    return None


def _pix_math(question: str, turns: list[Turn], passages: list[Passage], lang: str) -> Answer | None:
    if "pix" not in fold(question) or "price" not in topics(question) and "desconto" not in fold(question):
        return None
    chat = [t.text for t in turns]
    off = _percent_off(list(reversed(chat)))
    cited: list[Passage] = []
    if off is None:
        for p in passages:
            off = _percent_off([p.text])
            if off:
                cited.append(p)
                break
    if off is None:
        return None
    base = _money(question)
    what = ""
    if base is None:
        row = matching_row(question, passages)
        price = _field(row.fields, "price") if row else None
        base = _money(price if price and "$" in price else f"R$ {price}") if price else None
        if base is None or row is None:
            return None
        what = _field(row.fields, "product") or ""
        cited.insert(0, row)
    pct, pct_text = off
    total = base * (Decimal(100) - pct) / Decimal(100)
    if lang == "pt":
        item = f"{what} de {format_brl(base)}" if what else f"o valor de {format_brl(base)}"
        text = f"No Pix, com {pct_text} de desconto, {item} fica {format_brl(total)}."
    else:
        item = f"{what} at {format_brl(base)}" if what else f"{format_brl(base)}"
        text = f"With Pix's {pct_text} discount, {item} comes to {format_brl(total)}."
    return Answer(text[0].upper() + text[1:], "knowledge" if cited else "template", tuple(cited))


def _from_chat(question: str, turns: list[Turn], lang: str) -> Answer | None:
    """An attendant's earlier sentence on the asked topic with a number in it, repeated."""
    asked = topics(question) - {"price"} or topics(question)
    if not asked:
        return None
    last_in = max((i for i, t in enumerate(turns) if t.direction == "in"), default=-1)
    for t in reversed(turns[:last_in]):
        if t.direction != "out":
            continue
        for sentence in _SENTENCE.split(t.text):
            if re.search(r"\d", sentence) and topics(sentence) & asked and not _uncovered(question, t.text):
                said = sentence.strip(" •-")
                lead = "Como te passei: " if lang == "pt" else "As I mentioned: "
                return Answer(lead + said[0].lower() + said[1:], "template")
    return None


def _from_catalogue(question: str, passages: list[Passage], lang: str) -> Answer | None:
    row = matching_row(question, passages)
    if row is None:
        return None
    product = _field(row.fields, "product") or ""
    if _uncovered(question, " ".join(row.fields.values()) + " " + row.text):
        return None  # e.g. a size or colour the row does not list
    price = _field(row.fields, "price") or ""
    stock_text = _field(row.fields, "stock")
    stock = int(stock_text) if stock_text and stock_text.isdigit() else None
    if price and not re.search(r"\$", price):
        price = f"R$ {price}"
    pt = lang == "pt"
    if stock == 0:
        text = (
            f"No momento o item {product} está sem estoque" + (f" (preço {price})." if price else ".")
            if pt
            else f"The {product} is out of stock right now" + (f" (price {price})." if price else ".")
        )
    elif pt:
        text = f"{product} sai por {price}" if price else f"Temos {product}"
        text += f", e temos {_units(stock, lang)} em estoque." if stock else "."
    else:
        text = f"The {product} is {price}" if price else f"We have the {product}"
        text += f", with {_units(stock, lang)} in stock." if stock else "."
    return Answer(text[0].upper() + text[1:], "knowledge", (row,))


def _sentences(text: str) -> list[str]:
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    # The knowledge base carries a section's heading as its passage's first line ("Política de
    # trocas\nA troca pode…"): a title, not a sentence to quote in a reply.
    if len(lines) > 1 and not re.search(r"[.!?:]\s*$", lines[0]):
        lines = lines[1:]
    return [s.strip(" •-") for s in _SENTENCE.split("\n".join(lines)) if len(s.strip(" •-")) > 8]


def _from_passages(question: str, passages: list[Passage], lang: str) -> Answer | None:
    asked = topics(question) - {"price"}
    if not asked:
        return None
    q = set(terms(question))
    best: tuple[float, list[str], Passage] | None = None
    for p in passages:
        if p.fields:
            continue
        if _uncovered(question, p.title + " " + p.text):
            continue
        scored = []
        for i, s in enumerate(_sentences(p.text)):
            on_topic = topics(s) & asked
            if not on_topic:
                continue
            overlap = len(q & set(terms(s)))
            scored.append((overlap + 0.5 * bool(re.search(r"\d", s)) - 0.01 * i, s))
        if not scored:
            continue
        scored.sort(key=lambda x: -x[0])
        chosen = [scored[0][1]]
        if len(scored) > 1 and len(chosen[0]) + len(scored[1][1]) < 200:
            chosen.append(scored[1][1])
        if best is None or scored[0][0] > best[0]:
            best = (scored[0][0], chosen, p)
    if best is None:
        return None
    return Answer(" ".join(best[1]), "knowledge", (best[2],))


def answers(turns: list[Turn], passages: list[Passage], lang: str) -> list[Answer]:
    """Replies that state the fact the customer's latest turn asks for, best first (may be empty)."""
    run = customer_run(turns)[::-1]  # newest first
    if not run:
        return []
    question = run[0]  # the latest message; earlier ones of the run only when it asks nothing
    if not is_question(question):
        question = next((q for q in run[1:] if is_question(q)), "")
    if not question:
        return []
    out: list[Answer] = []
    # A message may ask two things ("my order is late? and how much is the blue dress?"): each
    # question sentence is answered on its own, the whole message first.
    for q in [question, *(part for part in question_sentences(question) if part != question)]:
        for make in (
            lambda q=q: _pix_math(q, turns, passages, lang),
            lambda q=q: _from_chat(q, turns, lang),
            lambda q=q: _from_catalogue(q, passages, lang),
            lambda q=q: _from_passages(q, passages, lang),
        ):
            a = make()
            if a and all(a.text != o.text for o in out):
                out.append(a)
    return out


def question_sentences(text: str) -> list[str]:
    """The sentences of ``text`` that ask something."""
    return [part for part in re.split(r"(?<=[?!.])\s+", text.strip()) if is_question(part)]


def computed_numbers(found: list[Answer]) -> str:
    """Text of code-computed answers: what the reply check may accept as known."""
    return "\n".join(a.text for a in found)

"""Grading of suggestions and summaries against the hand-written rubric (suggestions_rubric.json,
tests/fixtures/shop/questions.json). Independent of llm/: the bench must be able to catch the
system out, so nothing here calls the code that picks the replies.

A suggestion *meets* the rubric when it matches one `good` pattern and no `wrong` one, *breaks*
it when it matches a `wrong` pattern or states a number or link no source holds; otherwise it
is neutral (harmless, not what the moment needs).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SHOP = HERE.parent / "fixtures" / "shop"

_CHECK = (
    r"\b(vou|vamos|irei)\s+(verificar|confirmar|checar|consultar|ver)\b"
    r"|\blet me (check|look)|\bi'?ll (check|look into)"
)
MACROS = {
    # a promise to look into it with nothing else: no apology, no question, no concrete step
    "@check_only": lambda s: bool(re.search(_CHECK, s, re.I))
    and "?" not in s
    and not re.search(r"desculp|sinto muito|lament|sorry|apolog|reembolso|estorno|troca|envi|refund|replace", s, re.I),
    "@sales_pitch": lambda s: bool(
        re.search(
            r"opç(ões|ão) de pagamento|formas de pagamento|aproveite|promoç|desconto|"
            r"conhe(cer|ça) (nossos|outros|a nossa)|"
            r"nova compra|payment options|special offer|discount|check out our",
            s,
            re.I,
        )
    ),
    "@retention": lambda s: bool(
        re.search(
            r"outra opção|antes de cancelar|nova compra|considere|alguma outra|cupom|anything else i can offer|"
            r"reconsider|instead of cancel",
            s,
            re.I,
        )
    ),
    "@thanks": lambda s: bool(
        re.search(r"obrigad|que bom|feliz|agradec|alegr|ótimo saber|thank|glad|great to hear|happy", s, re.I)
    ),
    "@remedy": lambda s: bool(
        re.search(
            r"n[úu]mero do pedido|foto|envi(ar|amos|o|aremos) (o|a|os|as) (item|itens|produto|peça|toalha|capa)|"
            r"reenvi|item (certo|correto|que falt)|troca|reembolso|estorno|devolu|devolver|resolver|order number|"
            r"photo|replace|refund",
            s,
            re.I,
        )
    ),
}
_NUMBER_OR_LINK = re.compile(r"https?://\S+|www\.\S+|\d[\d.,:/-]*")


def load_rubric() -> dict[str, dict]:
    data = json.loads((HERE / "suggestions_rubric.json").read_text("utf-8"))
    return {k: v for k, v in data.items() if not k.startswith("_")}


def load_questions() -> list[dict]:
    return json.loads((SHOP / "questions.json").read_text("utf-8"))


def shop_text() -> str:
    """Every source the shop fixture holds, as text: what a number may come from."""
    return "\n".join(p.read_text("utf-8") for p in sorted(SHOP.glob("*")) if p.suffix in (".md", ".csv"))


def matches(pattern: str, text: str) -> bool:
    if pattern in MACROS:
        return MACROS[pattern](text)
    return bool(re.search(pattern, text, re.I))


def unsupported(text: str, allowed: str) -> list[str]:
    """Numbers and links in ``text`` that ``allowed`` does not hold (digits compared)."""
    allowed_digits = {re.sub(r"\D", "", m) for m in _NUMBER_OR_LINK.findall(allowed)}
    out = []
    for m in _NUMBER_OR_LINK.findall(text):
        if m.startswith(("http", "www")):
            if m.rstrip(".,!?)") not in allowed:
                out.append(m)
        elif re.sub(r"\D", "", m) and not _same_amount(m) & allowed_digits:
            out.append(m)
    return out


def _same_amount(number: str) -> set[str]:
    """The digits of a number, and of the same whole amount written without cents (200,00 = 200)."""
    digits = re.sub(r"\D", "", number)
    return {digits, digits[:-2]} if re.search(r"\d[.,]00$", number) else {digits}


def grade(suggestion: str, rule: dict, allowed: str) -> str:
    """'meets' | 'breaks' | 'neutral'."""
    if unsupported(suggestion, allowed) or any(matches(p, suggestion) for p in rule.get("wrong", [])):
        return "breaks"
    if any(matches(p, suggestion) for p in rule.get("good", [])):
        return "meets"
    return "neutral"


_COUNT = re.compile(r"\((\d+) (?:mensage(?:m|ns) do cliente|customer messages?)\)")


def summary_grade(text: str, rule: dict, conversation: str, customer_messages: int | None = None) -> tuple[bool, bool]:
    """(true, useful): true = no number or link the chat lacks, no symbol soup, no plural error
    (a message count stated must be the real count); useful = true and holds every fact the
    rubric asks for."""
    counts = [int(n) for n in _COUNT.findall(text)]
    true = (
        bool(text.strip())
        and all(n == customer_messages for n in counts)
        and not unsupported(_COUNT.sub("", text), conversation)
        and not re.search(r"[{}\[\]<>`|\\]", text)
        and not re.search(r"\b1 (mensagens|messages|pedidos|orders)\b", text)
    )
    useful = true and all(matches(p, text) for p in rule.get("summary", []))
    return true, useful


def factual_grade(suggestions: list[str], question: dict, allowed: str) -> tuple[bool, bool]:
    """(right, invented) over the offered replies: right = one states the expected fact (for a
    question no source answers: none states a number and one asks or promises to check);
    invented = one states a number or link that neither the chat nor the shop's sources hold
    (the expected answer itself is never invented: a Pix price is computed, not quoted)."""
    answer = question["answer"]
    invented = any(unsupported(re.sub(answer, "", s, flags=re.I) if answer else s, allowed) for s in suggestions)
    if question["answer"] is None:
        chat = "\n".join(m.get("text") or "" for m in question["messages"])
        right = not any(unsupported(s, chat) for s in suggestions) and any(
            re.search(_CHECK + r"|\?", s, re.I) for s in suggestions
        )
    else:
        right = any(re.search(question["answer"], s, re.I) for s in suggestions)
    return right and not invented, invented

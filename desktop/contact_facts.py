"""Masking what belongs to one customer before a team reply is offered in another chat.

A past reply such as "Oi Mariana, seu pedido 48213 sai amanhã para a Rua das Flores, 120" is
good material for the next customer only as "Oi {nome}, seu pedido {pedido} sai amanhã para
{endereco}": names, order and tracking numbers, addresses, amounts, dates, e-mails, phones,
CPF, CEP and links become placeholders (the ranking may fill them from the current chat, or
drop the reply). Quick replies already use `{nome}` the same way.
"""

from __future__ import annotations

import re
import unicodedata

from llm.reply_check import vocabulary

PLACEHOLDER = re.compile(r"\{(nome|cliente|pedido|endereco|valor|data|email|telefone|cpf|cep|link)\}")
# Words a surname may share with the language ("Dias", "Rocha"): lower case they are the word.
_COMMON_WORDS = vocabulary("pt", []) | vocabulary("en", [])
# Order matters: the specific patterns run before the generic "long number" one.
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("email", re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")),
    ("link", re.compile(r"(?i)\b(?:https?://|www\.)\S+")),
    ("cpf", re.compile(r"\b\d{3}\.\d{3}\.\d{3}-\d{2}\b|\b\d{11}\b(?=\D|$)")),
    ("cep", re.compile(r"\b\d{5}-\d{3}\b")),
    ("telefone", re.compile(r"(?:\+?55\s?)?\(?\b\d{2}\)?\s?9?\d{4}[-\s]\d{4}\b")),
    (
        "valor",
        re.compile(r"(?i)(?:R\$|US\$|\$)\s?\d(?:[\d.,]*\d)?|\b\d+(?:[.,]\d{3})*(?:,\d{2})?\s?(?:reais|real|conto)\b"),
    ),
    ("data", re.compile(r"\b\d{1,2}/\d{1,2}(?:/\d{2,4})?\b|\b\d{4}-\d{2}-\d{2}\b")),
    (
        "endereco",
        re.compile(
            r"(?i)\b(?:rua|r\.|avenida|av\.?|alameda|al\.|travessa|tv\.|rodovia|estrada|praça|praca|largo)"
            r"\s+[^,\n.;!?]{2,60}(?:,?\s*(?:n[º°o]?\.?\s*)?\d+[a-z]?)?(?:\s*[-,]?\s*(?:apto?\.?|apartamento|bloco|casa|sala)\s*\w+)*"
        ),
    ),
    (
        "pedido",
        re.compile(r"(?i)#\s?\w*\d\w*|\b[a-z]{2}\d{8,}[a-z]{0,2}\b|\b\d{4,}\b|\b(?=\w*\d)(?=\w*[a-z])[a-z0-9]{6,}\b"),
    ),
]
# A number or code right after a word that names an order, ticket or invoice, however short.
_ORDER_AFTER_WORD = re.compile(
    r"(?i)\b(pedido|protocolo|rastreio|rastreamento|nota|nf|ordem|chamado|n[º°o]|número|numero)"
    r"(\s*(?:n[º°o]\.?|número|numero|#|:)?\s*)([a-z0-9-]*\d[a-z0-9-]*)"
)
# Only the greeting ignores case: the name after it must be capitalised ("Oi tudo bem?" and
# "Obrigada pela confiança" name nobody), and a "!" ends the greeting ("Boa tarde! Decidi…").
_GREETING_NAME = re.compile(
    r"\b((?i:oi|ol[aá]|bom dia|boa tarde|boa noite|obrigad[oa]|prezad[oa]|querid[oa]|sr\.?|sra\.?|senhor|senhora|"
    r"dona|dear|hi|hello|thanks))(,?\s+)([A-ZÀ-Ý][a-zà-ÿ]+(?:\s+[A-ZÀ-Ý][a-zà-ÿ]+)?)"
)
_WORD = re.compile(r"[^\W\d_]{2,}")


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


def name_tokens(*names: str | None) -> set[str]:
    """The words of a customer's names worth masking (3+ letters), folded."""
    out: set[str] = set()
    for name in names:
        for w in _WORD.findall(name or ""):
            if len(w) >= 3:
                out.add(_fold(w))
    return out


def mask(text: str, names: set[str] = frozenset()) -> str:
    """`text` with the customer-specific facts replaced by `{placeholders}`; `names` are the
    folded name words of the customer the text was written to or by."""
    for kind, pattern in _PATTERNS:
        text = pattern.sub("{" + kind + "}", text)
        if kind == "data":  # before the long-number rule: "pedido 77" is an order, not a count
            text = _ORDER_AFTER_WORD.sub(lambda m: f"{m.group(1)}{m.group(2)}{{pedido}}", text)
    text = _GREETING_NAME.sub(lambda m: f"{m.group(1)}{m.group(2)}{{nome}}", text)
    if names:
        text = re.sub(r"[^\W\d_]+", lambda m: _name_or_word(m.group(0), names), text)
        text = re.sub(r"\{nome\}(?:\s+\{nome\})+", "{nome}", text)
    return text


def _name_or_word(word: str, names: set[str]) -> str:
    """A word of the customer's name: capitalised it addresses them ({nome}, which the next chat
    fills with its own customer's name); lower case it is the common word ("3 dias úteis") or
    else still their name, masked as {cliente}, which nothing fills, so the reply is not offered."""
    folded = _fold(word)
    if folded not in names:
        return word
    if word[0].isupper():
        return "{nome}"
    return word if folded in _COMMON_WORDS else "{cliente}"


def words_left(masked: str) -> int:
    """How many real words a masked text keeps (placeholders not counted)."""
    return len(_WORD.findall(PLACEHOLDER.sub(" ", masked)))

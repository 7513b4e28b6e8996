"""The one-line summary shown to the attendant."""

from __future__ import annotations

from .prompts import Turn

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

"""The analysis prompt: label sets, instructions, the conversation transcript and the task.

The prompt keeps everything that changes least first: fixed instructions, then the
conversation oldest first, then the short task. A new message only appends to the
conversation, so the model re-uses the evaluated prefix of the previous analysis.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

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
MAX_TRANSCRIPT_MESSAGES = 40  # turns in the prompt at most; tokens are budgeted too
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


@dataclass(frozen=True)
class Turn:
    direction: str  # "in" (customer) or "out" (attendant)
    text: str
    kind: str = "text"
    key: str = field(default="", compare=False)  # the message id: where a long chat may be cut


def turns_from_messages(messages: Iterable[dict]) -> list[Turn]:
    """Every message as a turn (texts capped); ``context_budget`` decides which reach the prompt."""
    out = []
    for m in messages:
        if m.get("kind") == "system":
            continue
        text = m.get("text")
        if not text:
            text = {"image": "[imagem]", "audio": "[áudio]", "deleted": "[mensagem apagada]"}.get(m.get("kind", ""), "")
        if text:
            key = str(m.get("id") or "")
            out.append(Turn(m["direction"], text[:MAX_MESSAGE_CHARS], m.get("kind", "text"), key))
    return out


def customer_run(turns: list[Turn]) -> list[str]:
    """The customer's latest run of messages (after the attendant last wrote before it), oldest
    first; the attendant's messages after it are skipped."""
    out: list[str] = []
    for t in reversed(turns):
        if t.direction == "in":
            out.append(t.text)
        elif out:
            break
    return out[::-1]


def customer_text(turns: list[Turn], last: int = 3) -> str:
    """The customer's latest run of messages: what labels are computed on."""
    return "\n".join(customer_run(turns)[-last:])


def transcript_line(turn: Turn, lang: str) -> str:
    customer, attendant = SPEAKERS[lang]
    return f"{customer if turn.direction == 'in' else attendant}: {turn.text}"


MAX_KNOWLEDGE_CHARS = 600  # of retrieved passages in the prompt, after the stable transcript


def knowledge_block(passages: Iterable, lang: str) -> str:
    """The shop's passages for this moment, as prompt text (title: text), capped."""
    head = "Informações da loja:" if lang == "pt" else "Shop information:"
    lines, used = [], 0
    for p in passages:
        line = f"- {p.title}: {' '.join(p.text.split())}"[:300]
        if used + len(line) > MAX_KNOWLEDGE_CHARS:
            break
        lines.append(line)
        used += len(line)
    return head + "\n" + "\n".join(lines) if lines else ""


def chat_messages(turns: list[Turn], lang: str, note: str = "", knowledge: str = "") -> list[dict[str, str]]:
    """System instructions + one user turn: transcript (stable), the shop's passages for this
    moment, then the task (changes least).

    ``note`` stands for older turns left out (``context_budget``)."""
    lines = ([note] if note else []) + [transcript_line(t, lang) for t in turns]
    head = "Conversa:" if lang == "pt" else "Conversation:"
    user = head + "\n" + "\n".join(lines) + "\n\n" + (knowledge + "\n\n" if knowledge else "") + TASK[lang]
    return [{"role": "system", "content": INSTRUCTIONS[lang]}, {"role": "user", "content": user}]

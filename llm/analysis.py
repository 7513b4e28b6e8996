"""One analysis of a conversation, run on the inference thread: labels, then streamed replies."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llm import prompts, reply_select
from llm.errors import Cancelled
from llm.language import detect_language
from llm.stream_parse import parse_suggestions, partial_suggestions
from llm.summary import fallback_summary

LabelFn = Callable[..., dict]


@dataclass
class AnalysisRequest:
    messages: list[dict[str, Any]]
    contact_name: str | None = None
    quick_replies: list[dict[str, Any]] = field(default_factory=list)
    temperature: float = 0.7
    max_tokens: int = 200
    adapter: Any = None


def _labeler() -> LabelFn:
    from llm.labels import predict_labels

    return predict_labels


def format_prompt(llama: Any, messages: list[dict[str, str]]) -> tuple[list[int], list[str]]:
    """Tokens of the chat prompt, with the GGUF's own template when it has one."""
    template = llama.metadata.get("tokenizer.chat_template") if llama.metadata else None
    if template:
        from llama_cpp.llama_chat_format import Jinja2ChatFormatter

        model = llama._model
        eos_id, bos_id = llama.token_eos(), llama.token_bos()
        fmt = Jinja2ChatFormatter(
            template=template,
            eos_token=model.token_get_text(eos_id) if eos_id != -1 else "",
            bos_token=model.token_get_text(bos_id) if bos_id != -1 else "",
        )
        res = fmt(messages=messages)
        stop = [res.stop] if isinstance(res.stop, str) else list(res.stop or [])
        tokens = llama.tokenize(res.prompt.encode(), add_bos=not res.added_special, special=True)
        return tokens, stop
    text = "".join(f"{m['role'].capitalize()}: {m['content']}\n" for m in messages) + "Assistant:"
    return llama.tokenize(text.encode(), add_bos=True, special=True), ["\nUser:"]


def cached_prefix(llama: Any, tokens: list[int]) -> int:
    """Tokens of this prompt already evaluated, in the live state or the saved per-chat states."""
    from llama_cpp import Llama

    best = Llama.longest_token_prefix(llama._input_ids.tolist(), tokens)
    cache = getattr(llama, "cache", None)
    if cache is not None:
        try:
            item = cache[tokens]
            best = max(best, Llama.longest_token_prefix(item.input_ids.tolist(), tokens))
        except KeyError:
            pass
    return best


def generate_suggestions(
    llama: Any,
    tokens: list[int],
    stop: list[str],
    *,
    temperature: float,
    max_tokens: int,
    cancelled: Callable[[], bool],
    on_text: Callable[[str], None] | None = None,
) -> tuple[str, int]:
    """Stream the grammar-constrained JSON answer; returns (JSON text so far, generated tokens)."""
    from llama_cpp import LlamaGrammar

    grammar = LlamaGrammar.from_string(prompts.SUGGESTION_GRAMMAR, verbose=False)
    prefix = llama.tokenize(prompts.SUGGESTION_PREFIX.encode(), add_bos=False, special=False)
    out: list[str] = [prompts.SUGGESTION_PREFIX]
    n = 0
    stream = llama.create_completion(
        tokens + prefix,
        max_tokens=max_tokens,
        temperature=temperature,
        stop=stop,
        grammar=grammar,
        stream=True,
        repeat_penalty=1.15,
    )
    try:
        for chunk in stream:
            if cancelled():
                raise Cancelled("cancelled by a newer request")
            piece = chunk["choices"][0].get("text") or ""
            n += 1
            if piece:
                out.append(piece)
                if on_text:
                    on_text("".join(out))
    finally:
        stream.close()
    return "".join(out), n


def customer_and_lang(turns: list[prompts.Turn]) -> tuple[str, str]:
    customer = prompts.customer_text(turns) or "\n".join(t.text for t in turns[-2:])
    lang = detect_language([t.text for t in turns if t.direction == "in"] or [customer])
    return customer, lang


def label_turns(llama: Any, turns: list[prompts.Turn], adapter: Any = None, labeler: LabelFn | None = None) -> dict:
    """Sentiment and intent of the customer's latest messages: the one path the server and
    `conversa eval` both take."""
    customer, lang = customer_and_lang(turns)
    labels = (labeler or _labeler())(customer, lang, llama=llama, adapter=adapter)
    return {**labels, "lang": lang, "text": customer}


def turn_features(llama: Any, turns: list[prompts.Turn]) -> dict:
    """What the label adapter learns from, for the same text `label_turns` labels."""
    from llm.labels import features

    customer, lang = customer_and_lang(turns)
    return features(customer, lang, llama)


def analyze(
    llama: Any,
    req: AnalysisRequest,
    cancelled: Callable[[], bool],
    on_labels: Callable[[dict], None] | None = None,
    on_partial: Callable[[int, str], None] | None = None,
    labeler: LabelFn | None = None,
) -> dict[str, Any]:
    t0 = time.monotonic()
    turns = prompts.turns_from_messages(req.messages)
    labels = label_turns(llama, turns, req.adapter, labeler)
    lang = labels["lang"]
    t_labels = time.monotonic()
    if on_labels:
        on_labels({"sentiment": labels["sentiment"], "intent": labels["intent"]})
    if cancelled():
        raise Cancelled("cancelled by a newer request")

    tokens, stop = format_prompt(llama, prompts.chat_messages(turns, lang))
    cached = cached_prefix(llama, tokens)
    sent: list[str] = []

    def on_text(raw: str) -> None:
        if not on_partial:
            return
        parts = partial_suggestions(raw)
        for i, text in enumerate(parts):
            if i >= len(sent):
                sent.append("")
            if text != sent[i]:
                sent[i] = text
                on_partial(i, text)

    raw, generated = generate_suggestions(
        llama,
        tokens,
        stop,
        temperature=req.temperature,
        max_tokens=req.max_tokens,
        cancelled=cancelled,
        on_text=on_text,
    )
    candidates, summary = parse_suggestions(raw)
    intent = labels["intent"]["label"]
    extra = [
        reply_select.fill_variables(q["text"], req.contact_name)
        for q in req.quick_replies
        if intent in (q.get("intents") or [])
    ]
    final = reply_select.finalize_with_sources(
        candidates, lang, intent, turns, req.contact_name, extra, labels["sentiment"]["label"]
    )
    suggestions = [text for text, _ in final]
    summary = reply_select.clean_suggestion(summary) if summary and detect_language([summary]) == lang else ""
    return {
        "lang": lang,
        "sentiment": labels["sentiment"],
        "intent": labels["intent"],
        "summary": summary or fallback_summary(turns, lang, labels),
        "suggestions": suggestions,
        "suggestion_sources": [source for _, source in final],
        "timings": {
            "labels_ms": round((t_labels - t0) * 1000),
            "prompt_tokens": len(tokens),
            "cached_tokens": cached,
            "generated_tokens": generated,
            "total_ms": round((time.monotonic() - t0) * 1000),
        },
    }

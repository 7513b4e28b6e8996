"""One analysis of a conversation, run on the inference thread: labels, then streamed replies."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from llm import context_budget, prompts, reply_select, shop_answers
from llm.errors import Cancelled, GenerationFailed
from llm.language import detect_language
from llm.sources import Passage, TeamReply
from llm.stream_parse import parse_suggestions, partial_suggestions
from llm.summary import choose_summary

LabelFn = Callable[..., dict]


@dataclass
class AnalysisRequest:
    messages: list[dict[str, Any]]
    contact_name: str | None = None
    quick_replies: list[dict[str, Any]] = field(default_factory=list)
    temperature: float = 0.7
    max_tokens: int = 200
    adapter: Any = None
    # Grounding found by the service for this moment (see llm/sources.py); empty = none.
    passages: list[Passage] = field(default_factory=list)
    team_replies: list[TeamReply] = field(default_factory=list)


def _labeler() -> LabelFn:
    from llm.labels import predict_labels

    return predict_labels


def _formatter(llama: Any) -> Any:
    """The GGUF's chat template, compiled once per model instance (None: no template)."""
    fmt = getattr(llama, "_conversa_formatter", False)
    if fmt is False:
        template = llama.metadata.get("tokenizer.chat_template") if llama.metadata else None
        fmt = None
        if template:
            from llama_cpp.llama_chat_format import Jinja2ChatFormatter

            model = llama._model
            eos_id, bos_id = llama.token_eos(), llama.token_bos()
            fmt = Jinja2ChatFormatter(
                template=template,
                eos_token=model.token_get_text(eos_id) if eos_id != -1 else "",
                bos_token=model.token_get_text(bos_id) if bos_id != -1 else "",
            )
        llama._conversa_formatter = fmt
    return fmt


def format_prompt(llama: Any, messages: list[dict[str, str]]) -> tuple[list[int], list[str]]:
    """Tokens of the chat prompt, with the GGUF's own template when it has one."""
    fmt = _formatter(llama)
    if fmt is not None:
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


PROMPT_MARGIN = 8  # tokens: lines tokenised one by one may merge differently in the whole prompt
MIN_GENERATION_TOKENS = 48
_RECENT_CUTS = 1024  # cut points remembered per model instance (message ids, no text)


def _recent_cuts(llama: Any) -> OrderedDict[str, None]:
    cuts = getattr(llama, "_conversa_cuts", None)
    if cuts is None:
        cuts = OrderedDict()
        llama._conversa_cuts = cuts
    return cuts


def build_prompt(
    llama: Any, turns: list[prompts.Turn], lang: str, max_tokens: int, knowledge: str = ""
) -> tuple[list[int], list[str], int, context_budget.Window]:
    """Prompt tokens that fit ``n_ctx`` with the answer prefix and ``max_tokens`` generated.

    Returns (tokens, stop, max_tokens, window); ``max_tokens`` shrinks only when even the
    newest turn alone leaves less room (a very small context)."""
    n_ctx = llama.n_ctx()
    answer = len(llama.tokenize(prompts.SUGGESTION_PREFIX.encode(), add_bos=False, special=False))
    empty, _ = format_prompt(llama, prompts.chat_messages([], lang, knowledge=knowledge))
    budget = n_ctx - len(empty) - answer - max_tokens - PROMPT_MARGIN

    def line_tokens(turn: prompts.Turn) -> int:
        line = prompts.transcript_line(turn, lang) + "\n"
        return len(llama.tokenize(line.encode(), add_bos=False, special=False))

    cuts = _recent_cuts(llama)
    window = context_budget.fit(turns, lang, line_tokens, budget, preferred=cuts)
    while True:
        tokens, stop = format_prompt(llama, prompts.chat_messages(window.turns, lang, window.note, knowledge))
        if len(tokens) + answer + max_tokens <= n_ctx or len(window.turns) <= 1:
            break
        window = context_budget.drop_oldest(window, turns, lang)
    room = n_ctx - len(tokens) - answer
    if room < MIN_GENERATION_TOKENS:
        raise GenerationFailed(f"the latest message does not fit the model's context of {n_ctx} tokens")
    if window.cut_key:
        cuts[window.cut_key] = None
        cuts.move_to_end(window.cut_key)
        while len(cuts) > _RECENT_CUTS:
            cuts.popitem(last=False)
    return tokens, stop, min(max_tokens, room), window


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


def grounded_answers(turns: list[prompts.Turn], passages: list[Passage], lang: str) -> list[reply_select.Suggestion]:
    """The facts the customer asks for, stated by code from this chat and the shop's passages."""
    return [
        reply_select.Suggestion(a.text, a.source, tuple((p.id, p.title) for p in a.citations))
        for a in shop_answers.answers(turns, passages, lang)
    ]


def analyze(
    llama: Any,
    req: AnalysisRequest,
    cancelled: Callable[[], bool],
    on_labels: Callable[[dict], None] | None = None,
    on_partial: Callable[[int, str], None] | None = None,
    labeler: LabelFn | None = None,
) -> dict[str, Any]:
    t0 = time.monotonic()
    remote = getattr(llama, "remote", False)
    turns = prompts.turns_from_messages(req.messages)
    # Over HTTP the model's logits are out of reach: labels take the text-only path (lexicons,
    # the text seed adapter, the team's adapter), the one `conversa eval --no-model` measures.
    labels = label_turns(None if remote else llama, turns, req.adapter, labeler)
    lang = labels["lang"]
    t_labels = time.monotonic()
    if on_labels:
        on_labels({"sentiment": labels["sentiment"], "intent": labels["intent"]})
    if cancelled():
        raise Cancelled("cancelled by a newer request")

    knowledge = prompts.knowledge_block(req.passages, lang)
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

    if remote:
        messages, max_tokens, window = remote_prompt(llama.n_ctx(), turns, lang, req.max_tokens, knowledge)
        raw, usage = llama.stream_json(
            messages,
            REMOTE_SCHEMA,
            temperature=req.temperature,
            max_tokens=max_tokens,
            cancelled=cancelled,
            on_text=on_text,
        )
        prompt_tokens, cached, generated = usage["prompt_tokens"], None, usage["generated_tokens"]
    else:
        tokens, stop, max_tokens, window = build_prompt(llama, turns, lang, req.max_tokens, knowledge)
        cached = cached_prefix(llama, tokens)
        raw, generated = generate_suggestions(
            llama,
            tokens,
            stop,
            temperature=req.temperature,
            max_tokens=max_tokens,
            cancelled=cancelled,
            on_text=on_text,
        )
        prompt_tokens = len(tokens)
    candidates, summary = parse_suggestions(raw)
    intent = labels["intent"]["label"]
    extra = [
        reply_select.fill_variables(q["text"], req.contact_name)
        for q in req.quick_replies
        if intent in (q.get("intents") or [])
    ]
    final = reply_select.rank_replies(
        candidates,
        lang,
        intent,
        turns,
        req.contact_name,
        extra,
        labels["sentiment"]["label"],
        answers=grounded_answers(turns, req.passages, lang),
        team=[(t.text, t.intent, t.customer_turn) for t in req.team_replies],
        allowed="\n".join(p.text for p in req.passages),
        confidence=labels["intent"].get("confidence"),
    )
    suggestions = [s.text for s in final]
    summary, summary_source = choose_summary(summary, turns, lang)
    out = {
        "lang": lang,
        "sentiment": labels["sentiment"],
        "intent": labels["intent"],
        "summary": summary,
        "summary_source": summary_source,
        "suggestions": suggestions,
        "suggestion_sources": [s.source for s in final],
        "suggestion_citations": [[{"id": i, "title": t} for i, t in s.citations] for s in final],
        "timings": {
            "labels_ms": round((t_labels - t0) * 1000),
            "prompt_tokens": prompt_tokens,
            "dropped_turns": window.dropped,
            "cached_tokens": cached,
            "generated_tokens": generated,
            "total_ms": round((time.monotonic() - t0) * 1000),
        },
    }
    if remote:
        out["timings"]["server"] = usage["server"]
    return out


# The suggestion schema with bounds the built-in grammar also keeps: no empty strings, none too long.
_LINE = {"type": "string", "minLength": 2, "maxLength": prompts.MAX_SUGGESTION_CHARS}
REMOTE_SCHEMA = {
    **prompts.SUGGESTION_SCHEMA,
    "properties": {
        "suggestions": {**prompts.SUGGESTION_SCHEMA["properties"]["suggestions"], "items": _LINE},
        "summary": _LINE,
    },
}
# No tokenizer at hand: a cautious estimate in UTF-8 bytes per token. llama_cpp.server counted
# 612 prompt tokens for the fixture pt-BR chat's 1,421 bytes of messages (2.3) with the default model.
REMOTE_BYTES_PER_TOKEN = 2


def remote_prompt(
    n_ctx: int, turns: list[prompts.Turn], lang: str, max_tokens: int, knowledge: str = ""
) -> tuple[list[dict[str, str]], int, context_budget.Window]:
    """The same chat messages as `build_prompt` lays out, budgeted by an estimate of tokens."""

    def estimate(text: str) -> int:
        return len(text.encode()) // REMOTE_BYTES_PER_TOKEN + 1

    fixed = sum(estimate(m["content"]) + 8 for m in prompts.chat_messages([], lang, knowledge=knowledge))
    budget = n_ctx - fixed - max_tokens - PROMPT_MARGIN
    with _REMOTE_CUTS_LOCK:  # the remote workers run analyses in parallel
        cuts = _REMOTE_CUTS
        window = context_budget.fit(
            turns, lang, lambda t: estimate(prompts.transcript_line(t, lang) + "\n"), budget, preferred=set(cuts)
        )
        if window.cut_key:
            cuts[window.cut_key] = None
            cuts.move_to_end(window.cut_key)
            while len(cuts) > _RECENT_CUTS:
                cuts.popitem(last=False)
    messages = prompts.chat_messages(window.turns, lang, window.note, knowledge)
    room = n_ctx - sum(estimate(m["content"]) + 8 for m in messages)
    if room < MIN_GENERATION_TOKENS:
        raise GenerationFailed(f"the latest message does not fit the model's context of {n_ctx} tokens")
    return messages, min(max_tokens, room), window


_REMOTE_CUTS: OrderedDict[str, None] = OrderedDict()  # cut points of remote analyses (message ids, no text)
_REMOTE_CUTS_LOCK = threading.Lock()

"""Former home of the prompt, parsing, language and reply-selection code, kept as a re-export
so existing imports (`from llm.tasks import INTENTS, SENTIMENTS`) keep working. New code
imports from the modules themselves."""

from .language import detect_language
from .prompts import (
    INSTRUCTIONS,
    INTENTS,
    MAX_MESSAGE_CHARS,
    MAX_SUGGESTION_CHARS,
    MAX_TRANSCRIPT_MESSAGES,
    SENTIMENTS,
    SPEAKERS,
    SUGGESTION_GRAMMAR,
    SUGGESTION_PREFIX,
    SUGGESTION_SCHEMA,
    TASK,
    Turn,
    chat_messages,
    customer_text,
    turns_from_messages,
)
from .reply_select import (
    FALLBACKS,
    MOOD_FALLBACKS,
    clean_suggestion,
    fill_variables,
    finalize_suggestions,
    finalize_with_sources,
    first_name,
    invented_facts,
    is_echo,
    looks_like_prose,
    suggestion_ok,
)
from .stream_parse import parse_suggestions, partial_suggestions

__all__ = [
    "FALLBACKS",
    "INSTRUCTIONS",
    "INTENTS",
    "MAX_MESSAGE_CHARS",
    "MAX_SUGGESTION_CHARS",
    "MAX_TRANSCRIPT_MESSAGES",
    "MOOD_FALLBACKS",
    "SENTIMENTS",
    "SPEAKERS",
    "SUGGESTION_GRAMMAR",
    "SUGGESTION_PREFIX",
    "SUGGESTION_SCHEMA",
    "TASK",
    "Turn",
    "chat_messages",
    "clean_suggestion",
    "customer_text",
    "detect_language",
    "fill_variables",
    "finalize_suggestions",
    "finalize_with_sources",
    "first_name",
    "invented_facts",
    "is_echo",
    "looks_like_prose",
    "parse_suggestions",
    "partial_suggestions",
    "suggestion_ok",
    "turns_from_messages",
]

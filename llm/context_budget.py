"""Which turns of a long conversation go into the prompt, so it fits the model's context.

The newest turns are kept; older ones are left out behind a one-line note that names the
order numbers, amounts and dates mentioned just before the cut. The cut must not move with
every new message, or the evaluated prefix (KV cache) of the previous analysis is lost each
time. So a conversation is only cut at "cut points": turns picked by a hash of their message
id (about one in ``CUT_EVERY``), which stay cut points however the list of messages we are
given slides. A cut point that served a previous analysis is kept while the conversation
still fits after it; when it no longer does, the next cut leaves a quarter of the budget free
(``LOW_WATER``), so several new messages fit before the prefix changes again, and falls on
the first cut point after that unless it would keep less than half (``MIN_FILL``).
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Container
from dataclasses import dataclass

from . import chat_facts
from .prompts import MAX_TRANSCRIPT_MESSAGES, Turn

CUT_EVERY = 6
LOW_WATER = 0.75
MIN_FILL = 0.5  # a new cut keeps at least this share of the budget, cut point or not
NOTE_TOKENS = 48  # reserved for the note; it names at most 3 short facts
NOTE_CONTEXT_TURNS = 12  # the note's facts come from this many turns before the cut
_NOTE = {
    "pt": ("(Mensagens anteriores omitidas.)", "(Mensagens anteriores omitidas. Citado antes: {facts}.)"),
    "en": ("(Earlier messages left out.)", "(Earlier messages left out. Mentioned before: {facts}.)"),
}


@dataclass(frozen=True)
class Window:
    turns: list[Turn]  # kept, oldest first
    dropped: int  # turns of the given list left out before them
    note: str  # "" when nothing was left out

    @property
    def cut_key(self) -> str:
        return turn_key(self.turns[0]) if self.dropped and self.turns else ""


def turn_key(turn: Turn) -> str:
    return turn.key or turn.text


def is_cut_point(turn: Turn) -> bool:
    return zlib.crc32(turn_key(turn).encode("utf-8", "replace")) % CUT_EVERY == 0


def note_for(cut: list[Turn], lang: str) -> str:
    """The line that stands for the turns left out: stable for a given cut point."""
    facts = chat_facts.all_facts(t.text for t in cut[-NOTE_CONTEXT_TURNS:])
    plain, with_facts = _NOTE[lang]
    return with_facts.format(facts=", ".join(facts)) if facts else plain


def fit(
    turns: list[Turn],
    lang: str,
    line_tokens: Callable[[Turn], int],
    budget: int,
    *,
    max_turns: int = MAX_TRANSCRIPT_MESSAGES,
    preferred: Container[str] = (),
) -> Window:
    """The newest turns whose lines cost at most ``budget`` tokens (note included).

    ``line_tokens`` gives a turn's transcript line in tokens; ``preferred`` holds the keys of
    cut points used by earlier analyses (see ``Window.cut_key``).
    """
    n = len(turns)
    tail = [0] * (n + 1)
    for i in range(n - 1, -1, -1):
        tail[i] = tail[i + 1] + line_tokens(turns[i])

    def fits(i: int, scale: float = 1.0) -> bool:
        note = NOTE_TOKENS if i > 0 else 0
        return n - i <= scale * max_turns and tail[i] + note <= scale * budget

    if fits(0):
        return Window(list(turns), 0, "")
    cuts = [i for i in range(1, n) if is_cut_point(turns[i])]
    # The start an earlier analysis used is kept while the chat still fits after it, cut point or
    # not (a chat of long messages may have had to start between cut points): the prefix stays.
    start = next((i for i in range(1, n) if turn_key(turns[i]) in preferred and fits(i)), None)
    if start is None:
        least = next((i for i in range(1, n) if fits(i, LOW_WATER)), n - 1)
        # The first cut point after the least cut, unless that throws away much more.
        start = next((i for i in cuts if i >= least and tail[i] >= MIN_FILL * budget), least)
    return Window(list(turns[start:]), start, note_for(turns[:start], lang))


def drop_oldest(window: Window, turns: list[Turn], lang: str) -> Window:
    """One turn fewer than ``window`` (when the exact prompt is still too long)."""
    start = window.dropped + 1
    return Window(list(turns[start:]), start, note_for(turns[:start], lang))

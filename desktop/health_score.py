"""Customer health score: one number 0-100 per contact, with the reasons that lowered it.

The formula, as of an instant T (now, for /metrics):

    start at 100, then
    - 30  `negative_trend`      the mean of the contact's last 3 analysed sentiments before T is below 0
                                (positive = +1, neutral = 0, negative = -1)
    - 25  `waiting_unanswered`  a customer message is unanswered at T for longer than the first-response
                                SLA target (`sla_first_response_minutes`)
    - 25  `inactive_30d`        the last message (either side) is 30 days or more before T
       or
    - 10  `inactive_14d`        ... 14 days or more
    then, if the contact's stage is `lost`, the score is at most 10 (`stage_lost`),
    and it is kept within 0..100.

A contact is "at risk" when its score is below `health_risk_threshold` (default 40), or when it fell
by 15 points or more from the score computed the same way as of the checkpoint, local midnight 30
days before today — reason `falling`. Stages have no history, so the previous score uses today's
stage too. Times are read as /metrics reads them (metrics.instant); the inputs are kept per contact
by desktop/metric_totals.py and scored by desktop/metrics_kept.py.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from desktop.pipeline import LOST

TREND_WINDOW = 3
FALLING_POINTS = 15
_SENTIMENT_VALUE = {"positive": 1, "neutral": 0, "negative": -1}

# Machine code -> short text (pt-BR, what the panel shows next to the code).
REASONS = {
    "negative_trend": "sentimento negativo nas últimas análises",
    "waiting_unanswered": "cliente aguardando resposta além do SLA",
    "inactive_30d": "sem mensagens há 30 dias ou mais",
    "inactive_14d": "sem mensagens há 14 dias ou mais",
    "stage_lost": "negócio perdido",
    "falling": "saúde caiu 15 pontos ou mais em 30 dias",
}
PENALTY = {"negative_trend": 30, "waiting_unanswered": 25, "inactive_30d": 25, "inactive_14d": 10}
LOST_CAP = 10


@dataclass
class ContactState:
    """What the score is computed from, for one contact as of one instant."""

    last_message_at: float | None = None  # POSIX seconds, either direction
    waiting_since: float | None = None  # the first customer message no reply followed yet
    sentiments: list[str] = field(default_factory=list)  # analysed labels, oldest first, before T

    @classmethod
    def kept(cls, last_message_at: float | None, waiting_since: float | None, negative: bool) -> ContactState:
        """The state from kept inputs, where the trend was reduced to whether it is negative."""
        return cls(last_message_at, waiting_since, ["negative"] if negative else [])


@dataclass(frozen=True)
class Health:
    score: int
    reasons: tuple[str, ...]
    waiting_seconds: float | None
    days_since_last_message: float | None


def trend(labels: Iterable[str]) -> float | None:
    """Mean of the last TREND_WINDOW sentiments (+1/0/-1); None with none analysed."""
    values = [_SENTIMENT_VALUE[x] for x in labels if x in _SENTIMENT_VALUE][-TREND_WINDOW:]
    return sum(values) / len(values) if values else None


def score(state: ContactState, stage: str | None, at: float, sla_first_response_seconds: float) -> Health:
    reasons: list[str] = []
    t = trend(state.sentiments)
    if t is not None and t < 0:
        reasons.append("negative_trend")
    waiting = at - state.waiting_since if state.waiting_since is not None else None
    if waiting is not None and waiting > sla_first_response_seconds:
        reasons.append("waiting_unanswered")
    days = (at - state.last_message_at) / 86400 if state.last_message_at is not None else None
    if days is not None and days >= 30:
        reasons.append("inactive_30d")
    elif days is not None and days >= 14:
        reasons.append("inactive_14d")
    value = 100 - sum(PENALTY[r] for r in reasons)
    if stage == LOST:
        reasons.append("stage_lost")
        value = min(value, LOST_CAP)
    return Health(max(0, min(100, value)), tuple(reasons), waiting, days)


def falling(now: int, previous: int | None) -> bool:
    return previous is not None and previous - now >= FALLING_POINTS


def reasons_out(codes: Iterable[str]) -> list[dict[str, Any]]:
    return [{"code": c, "text": REASONS[c]} for c in codes]

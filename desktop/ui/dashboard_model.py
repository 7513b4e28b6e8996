"""The dashboard's model: a `/metrics` answer in, the series each chart and table draws out.

Plain data (no Tk, no matplotlib), shared by the dashboard tab and the PDF report, unit-tested.
A chart whose series is empty says so (`empty` holds the key of the text that tells what to do)
rather than drawing axes of nothing; what a series means is in its field's comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

SENTIMENTS = ("positive", "neutral", "negative")
PRESETS = ("7d", "30d", "90d", "month", "last_month")


def period(preset: str, today: date) -> tuple[date, date]:
    """Inclusive (from, to) days of a preset: the last 7/30/90 days up to today, this calendar
    month so far, or the whole previous month."""
    if preset in ("7d", "30d", "90d"):
        return today - timedelta(days=int(preset[:-1]) - 1), today
    first = today.replace(day=1)
    if preset == "month":
        return first, today
    if preset == "last_month":
        end = first - timedelta(days=1)
        return end.replace(day=1), end
    raise ValueError(f"unknown period {preset!r}")


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    ref: str | None = None  # what a click opens (a user or contact id)
    amount: float | None = None  # money drawn next to the bar (a stage's value)


@dataclass(frozen=True)
class Dot:
    label: str
    x: float
    y: float
    ref: str | None = None


@dataclass
class Dashboard:
    first: str  # ISO day
    last: str
    user: str | None  # None: the whole team
    kpis: dict[str, Any] = field(default_factory=dict)
    days: list[str] = field(default_factory=list)  # every day of the series, oldest first
    conversations: list[int] = field(default_factory=list)  # per day: conversations with a message
    messages_in: list[int] = field(default_factory=list)  # per day: customer messages
    sentiment: dict[str, list[int]] = field(default_factory=dict)  # per label, per day: analyses made that day
    intents: list[Bar] = field(default_factory=list)  # latest analysis of each conversation of the period
    first_response: list[Bar] = field(default_factory=list)  # per attendant: median first response, minutes
    resolution: list[Bar] = field(default_factory=list)  # per attendant: median resolution, hours
    efficiency: list[Dot] = field(default_factory=list)  # x conversations, y median first response (min)
    funnel: list[Bar] = field(default_factory=list)  # contacts per stage now, with the stage's value
    attendants: list[dict[str, Any]] = field(default_factory=list)  # the per-attendant SLA table's rows
    top_contacts: list[dict[str, Any]] = field(default_factory=list)
    at_risk: list[dict[str, Any]] = field(default_factory=list)
    sla_first_response_minutes: float | None = None
    sla_resolution_hours: float | None = None
    empty: dict[str, str] = field(default_factory=dict)  # chart -> key of its empty-state text


def build(m: dict[str, Any], first: str, last: str, user: str | None = None) -> Dashboard:
    """The series of one `/metrics` answer for the period [first, last]."""
    d = Dashboard(first=first, last=last, user=user)
    sla = m.get("sla") or {}
    d.sla_first_response_minutes = sla.get("first_response_minutes")
    d.sla_resolution_hours = sla.get("resolution_hours")
    vol = m.get("volumes") or {}
    frt = m.get("first_response_seconds") or {}
    health = m.get("health") or {}
    d.kpis = {
        "conversations": vol.get("conversations", 0),
        "messages_in": vol.get("messages_in", 0),
        "open": vol.get("open", 0),
        "first_response_p50": frt.get("p50"),
        "first_response_met": sla.get("first_response_met"),
        "resolution_met": sla.get("resolution_met"),
        "pipeline_value": m.get("pipeline_value", 0),
        "health_average": health.get("average"),
        "at_risk": len(m.get("at_risk") or []),
    }
    daily = m.get("daily") or []
    d.days = [r["day"] for r in daily]
    d.conversations = [int(r.get("conversations", 0)) for r in daily]
    d.messages_in = [int(r.get("messages_in", 0)) for r in daily]
    d.sentiment = {s: [int((r.get("sentiment") or {}).get(s, 0)) for r in daily] for s in SENTIMENTS}
    if not any(d.conversations):
        d.empty["daily"] = "dash.empty.daily"
    if not any(sum(v) for v in d.sentiment.values()):
        d.empty["sentiment"] = "dash.empty.sentiment"
    intents = sorted((m.get("intent") or {}).items(), key=lambda kv: (-kv[1], kv[0]))
    d.intents = [Bar(label, n) for label, n in intents if n]
    if not d.intents:
        d.empty["intents"] = "dash.empty.intents"
    for a in m.get("attendants") or []:
        name = a.get("username") or a.get("user") or "?"
        p50 = (a.get("first_response_seconds") or {}).get("p50")
        if p50 is not None:
            d.first_response.append(Bar(name, p50 / 60, a.get("user")))
            if a.get("conversations"):
                d.efficiency.append(Dot(name, a["conversations"], p50 / 60, a.get("user")))
        res = (a.get("resolution_seconds") or {}).get("p50")
        if res is not None:
            d.resolution.append(Bar(name, res / 3600, a.get("user")))
        d.attendants.append(
            {
                "user": a.get("user"),
                "name": name,
                "conversations": a.get("conversations", 0),
                "first_response_p50": p50,
                "first_response_p90": (a.get("first_response_seconds") or {}).get("p90"),
                "first_response_met": a.get("first_response_sla_met"),
                "resolution_p50": res,
                "negative_share": a.get("negative_share"),
            }
        )
    if not d.first_response and not d.resolution:
        d.empty["sla"] = "dash.empty.sla"
    if not d.efficiency:
        d.empty["efficiency"] = "dash.empty.efficiency"
    d.funnel = [Bar(f["stage"], f.get("contacts", 0), amount=f.get("value") or 0) for f in m.get("funnel") or []]
    if not any(b.value for b in d.funnel):
        d.empty["funnel"] = "dash.empty.funnel"
    d.top_contacts = list(m.get("top_contacts") or [])
    if not d.top_contacts:
        d.empty["top_contacts"] = "dash.empty.top_contacts"
    d.at_risk = list(m.get("at_risk") or [])
    if not d.at_risk:
        d.empty["at_risk"] = "dash.empty.at_risk" if health.get("contacts_scored") else "dash.empty.health"
    return d


def metrics_params(first: date, last: date, user: str | None) -> dict[str, str]:
    """The query of `GET /metrics` for a period and an attendant (None: everyone the caller sees)."""
    params = {"from": first.isoformat(), "to": last.isoformat()}
    if user:
        params["user"] = user
    return params


def named(t, prefix: str, code: str) -> str:
    """The translated name of a label code (intent, stage…); the code itself when the catalogue lacks it."""
    key = f"{prefix}.{code}"
    text = t(key)
    return code if text == key else text


def reason_text(reason: dict[str, Any], t) -> str:
    """A health reason in the window's language; the server's pt-BR text when the code is new to us."""
    key = f"dash.reason.{reason.get('code')}"
    text = t(key)
    return (reason.get("text") or str(reason.get("code"))) if text == key else text


def sla_colour(value: float, target: float | None) -> str:
    """A bar within its target is green, past it red; grey without a target."""
    if target is None:
        return "#8a94a6"
    return "#2e9e6a" if value <= target else "#d64545"

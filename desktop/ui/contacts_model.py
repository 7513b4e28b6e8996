"""Contacts & pipeline tab, the model: API JSON in, table rows, board columns, PATCH bodies and
the import preview out. Plain functions (no Tk), unit-tested on their own."""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from desktop.pipeline import STAGES
from desktop.ui import format as fmt

Translate = Callable[..., str]
ALL = ""  # the "any" choice of a filter
HEALTH_FILTERS = ("at_risk", "healthy", "unscored")
IMPORT_GROUPS = ("created", "updated", "unchanged", "rejected")


def fold(text: str | None) -> str:
    """Lower case without accents, for search ("joao" finds "João")."""
    decomposed = unicodedata.normalize("NFD", (text or "").casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass
class Health:
    score: int
    at_risk: bool
    reasons: list[str] = field(default_factory=list)


def health_index(metrics: dict[str, Any] | None, t: Translate | None = None) -> dict[str, Health]:
    """contact id → its health score from GET /metrics: ``health.contacts`` scores every contact,
    ``at_risk`` says which are at risk (the server's rule: below the threshold, or falling).
    Reasons are codes, shown through the catalogue (``contacts.health.reason.<code>``)."""
    if not metrics:
        return {}

    def said(code: str) -> str:
        key = f"contacts.health.reason.{code}"
        text = t(key) if t else key
        return code if text == key else text

    health = metrics.get("health") or {}
    out: dict[str, Health] = {
        c["contact_id"]: Health(c["score"], False, [said(r) for r in c.get("reasons") or []])
        for c in health.get("contacts") or []
    }
    for r in metrics.get("at_risk") or []:
        h = out.setdefault(r["contact_id"], Health(r["score"], True))
        h.at_risk = True
        h.reasons = [said(x.get("code", "")) for x in r.get("reasons") or []] or h.reasons
    return out


@dataclass
class ContactRow:
    id: str
    name: str
    phone: str
    company: str
    external_id: str
    stage: str
    stage_text: str
    value: float | None
    value_text: str
    tags: list[str]
    tags_text: str
    owner: str | None
    owner_text: str
    notes: str
    health: Health | None
    health_text: str
    search: str  # folded text the search box matches

    def cells(self) -> tuple[str, ...]:
        """The table's columns, in order (see ``COLUMNS``)."""
        return (self.name, self.phone, self.stage_text, self.value_text, self.tags_text, self.owner_text,
                self.health_text, self.external_id)


COLUMNS = ("name", "phone", "stage", "value", "tags", "owner", "health", "external_id")


def stage_text(stage: str, t: Translate) -> str:
    return t(f"contacts.stage.{stage}")


def contact_rows(
    contacts: Iterable[dict[str, Any]],
    health: dict[str, Health],
    users: dict[str, str],
    t: Translate,
    lang: str = "pt_BR",
) -> list[ContactRow]:
    """One row per contact of GET /contacts; ``users`` maps user id → username (admins get it)."""
    rows = []
    for c in contacts:
        h = health.get(c["id"])
        name = c.get("name") or c.get("phone") or t("contacts.unnamed")
        owner = c.get("owner")
        owner_text = users.get(owner, owner) if owner else "—"
        tags = list(c.get("tags") or [])
        if h is None:
            health_text = "—"
        else:
            health_text = f"{h.score}" + (f" ⚠ {t('contacts.health.at_risk')}" if h.at_risk else "")
        rows.append(
            ContactRow(
                id=c["id"],
                name=name,
                phone=c.get("phone") or "",
                company=c.get("company") or "",
                external_id=c.get("external_id") or "",
                stage=c.get("stage") or STAGES[0],
                stage_text=stage_text(c.get("stage") or STAGES[0], t),
                value=c.get("value"),
                value_text=fmt.money(c.get("value"), lang) if c.get("value") is not None else "—",
                tags=tags,
                tags_text=", ".join(tags),
                owner=owner,
                owner_text=owner_text,
                notes=c.get("notes") or "",
                health=h,
                health_text=health_text,
                search=fold(" ".join([name, c.get("phone") or "", c.get("company") or "", c.get("external_id") or "",
                                      " ".join(tags), c.get("notes") or ""])),
            )
        )
    return rows


@dataclass
class Filters:
    query: str = ""
    stage: str = ALL
    tag: str = ALL
    owner: str = ALL  # a user id, or "none" for contacts nobody owns
    health: str = ALL  # one of HEALTH_FILTERS

    def matches(self, row: ContactRow) -> bool:
        """Every word of the search box is in the row; or its digits are in the phone (typed
        without the formatting)."""
        if all(w in row.search for w in fold(self.query).split()):
            return True
        digits = "".join(ch for ch in self.query if ch.isdigit())
        return len(digits) >= 3 and digits in "".join(ch for ch in row.phone if ch.isdigit())

    def keep(self, row: ContactRow) -> bool:
        if not self.matches(row):
            return False
        if self.stage and row.stage != self.stage:
            return False
        if self.tag and fold(self.tag) not in {fold(x) for x in row.tags}:
            return False
        if self.owner == "none":
            if row.owner:
                return False
        elif self.owner and row.owner != self.owner:
            return False
        if self.health == "at_risk" and not (row.health and row.health.at_risk):
            return False
        if self.health == "healthy" and not (row.health and not row.health.at_risk):
            return False
        return not (self.health == "unscored" and row.health is not None)


def apply_filters(rows: Iterable[ContactRow], filters: Filters) -> list[ContactRow]:
    return [r for r in rows if filters.keep(r)]


def all_tags(rows: Iterable[ContactRow]) -> list[str]:
    """Every tag in use, once, sorted without regard to case and accents (the tag filter's choices)."""
    seen: dict[str, str] = {}
    for r in rows:
        for tag in r.tags:
            seen.setdefault(fold(tag), tag)
    return [seen[k] for k in sorted(seen)]


@dataclass
class BoardColumn:
    stage: str
    title: str  # "Proposta · 3"
    total_text: str  # the stage's value, R$
    rows: list[ContactRow]


def board(rows: Iterable[ContactRow], t: Translate, lang: str = "pt_BR") -> list[BoardColumn]:
    """The pipeline board: one column per stage (in the pipeline's order), biggest value first."""
    by_stage: dict[str, list[ContactRow]] = {s: [] for s in STAGES}
    for r in rows:
        by_stage.setdefault(r.stage, []).append(r)
    out = []
    for stage, items in by_stage.items():
        items.sort(key=lambda r: (-(r.value or 0), fold(r.name)))
        total = sum(r.value or 0 for r in items)
        out.append(BoardColumn(stage, f"{stage_text(stage, t)} · {len(items)}", fmt.money(total, lang), items))
    return out


# -- editing -----------------------------------------------------------------------------------
def parse_tags(text: str) -> list[str]:
    """"vip, padaria ,sp" → ["padaria", "sp", "vip"] (as the server keeps them: sorted, once)."""
    return sorted({x.strip() for x in text.replace(";", ",").split(",") if x.strip()})


def patch_body(
    contact: dict[str, Any],
    *,
    stage: str,
    value_text: str,
    tags_text: str,
    notes: str,
    owner: str | None,
    lang: str = "pt_BR",
    can_set_owner: bool = True,
) -> dict[str, Any]:
    """Only what changed, in the shape of PATCH /contacts/{id}; ValueError("value") for a value
    that is not money (e.g. "1,234.50" typed in pt-BR)."""
    out: dict[str, Any] = {}
    if stage != contact.get("stage"):
        if stage not in STAGES:
            raise ValueError("stage")
        out["stage"] = stage
    try:
        value = fmt.parse_money(value_text, lang)
    except ValueError:
        raise ValueError("value") from None
    if value is not None and value < 0:
        raise ValueError("value")
    if value != contact.get("value"):
        out["value"] = value
    tags = parse_tags(tags_text)
    if tags != sorted(set(contact.get("tags") or [])):
        out["tags"] = tags
    if notes.strip() != (contact.get("notes") or "").strip():
        out["notes"] = notes.strip()
    if can_set_owner and (owner or None) != (contact.get("owner") or None):
        out["owner"] = owner or None
    return out


def value_for_entry(value: float | None, lang: str = "pt_BR") -> str:
    """The value as the entry shows it: "12.500,00" (what parse_money reads back)."""
    return "" if value is None else fmt.money(value, lang).replace("R$", "").strip()


# -- batch import ------------------------------------------------------------------------------
def decode_csv(raw: bytes) -> str:
    """A picked CSV file → text: UTF-8 (with or without BOM), else Windows-1252 (Excel pt-BR)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def import_body(*, text: str = "", csv_text: str = "", dry_run: bool, use_model: bool = True) -> dict[str, Any]:
    """The JSON of POST /contacts/import: a CSV when one was picked, else the pasted text."""
    if csv_text.strip():
        return {"csv": csv_text, "dry_run": dry_run, "use_model": use_model}
    if text.strip():
        return {"text": text, "dry_run": dry_run, "use_model": use_model}
    raise ValueError("empty")


@dataclass
class PreviewRow:
    row: int
    action: str
    name: str  # what was read (dry run), else the contact id
    detail: str  # changed fields, or why rejected
    warnings: str


_FIELD_KEYS = {"external_id", "name", "phone", "company", "stage", "value", "tags", "notes", "score", "email"}
_REASONS = {"no name and no phone": "contacts.import.reason.no_name_phone"}


def field_names(fields: Iterable[str], t: Translate) -> str:
    return ", ".join(t(f"contacts.field.{f}") if f in _FIELD_KEYS else f for f in fields)


def preview_groups(
    job: dict[str, Any], t: Translate, lang: str = "pt_BR", names: dict[int, str] | None = None
) -> dict[str, list[PreviewRow]]:
    """A finished contacts.import job → its rows grouped: created / updated (fields changed) /
    unchanged / rejected (why). The dry run's values (``preview``) name each row when present;
    ``names`` (row → name, from the dry run of the same input) names the rows of the real run."""
    names = names or {}
    result = job.get("result") or {}
    groups: dict[str, list[PreviewRow]] = {g: [] for g in IMPORT_GROUPS}
    for r in result.get("rows") or []:
        lead = r.get("preview") or {}  # a dry run's rows carry the parsed fields; a real run's do not
        name = lead.get("name") or lead.get("phone") or names.get(int(r.get("row", 0))) or r.get("contact_id") \
            or t("contacts.unnamed")
        if lead.get("external_id"):
            name = f"{name} (#{lead['external_id']})"
        action = r.get("action", "rejected")
        if action == "rejected":
            reason = r.get("reason") or ""
            detail = t(_REASONS[reason]) if reason in _REASONS else reason
        elif action == "created":
            parts = [field_names(r.get("fields") or [], t)]
            if lead.get("value") is not None:
                parts.append(fmt.money(lead["value"], lang))
            detail = " · ".join(p for p in parts if p)
        else:
            detail = field_names(r.get("fields") or [], t)
        groups.setdefault(action, []).append(
            PreviewRow(int(r.get("row", 0)), action, name, detail, "; ".join(r.get("warnings") or []))
        )
    return groups


def preview_counts(job: dict[str, Any]) -> dict[str, int]:
    counts = (job.get("result") or {}).get("counts") or {}
    return {g: int(counts.get(g, 0)) for g in IMPORT_GROUPS}


def group_title(group: str, n: int, t: Translate, *, done: bool = False) -> str:
    """"Serão criados (2)" in a preview, "Criados (2)" after the import."""
    kind = "done_group" if done else "group"
    return f"{t(f'contacts.import.{kind}.{group}')} ({n})"


# -- LGPD ----------------------------------------------------------------------------------------
def erase_consequences(contact: dict[str, Any], conversations: int | None, t: Translate) -> str:
    """What erasing this contact destroys, named for the confirmation dialog."""
    name = contact.get("name") or contact.get("phone") or contact.get("id")
    lines = [t("contacts.erase.intro", name=name)]
    if conversations is not None:
        lines.append(t("contacts.erase.conversations", n=conversations))
    lines += [t("contacts.erase.what"), t("contacts.erase.irreversible"), t("contacts.erase.export_first")]
    return "\n\n".join(lines)


def export_name(contact: dict[str, Any]) -> str:
    """A file name for one contact's data (no personal data in it: the id only)."""
    return f"conversa-contato-{contact['id']}.json"

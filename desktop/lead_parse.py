"""Reading customer leads out of pasted text or a CSV: blocks, labelled lines, Brazilian phones,
R$ amounts, pipeline stage words (pt-BR and en), and a 0-100 lead score. No model here: what
these rules read is kept, and the model (llm/lead_extract.py) may only fill what they left empty.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from desktop.pipeline import LEAD, LOST, PROPOSAL, QUALIFIED, STAGES, WON
from desktop.validation import MAX_VALUE

FIELDS = ("name", "phone", "company", "stage", "value", "tags", "notes", "score")
MAX_BLOCKS = 5000
MAX_FIELD_CHARS = 2000


@dataclass
class Block:
    """A piece of the pasted text about one customer, with the client id its marker gave."""

    external_id: str | None
    text: str


@dataclass
class Lead:
    external_id: str | None = None
    name: str | None = None
    phone: str | None = None
    company: str | None = None
    stage: str | None = None
    value: float | None = None
    tags: list[str] = field(default_factory=list)
    notes: str | None = None
    score: int | None = None
    warnings: list[str] = field(default_factory=list)

    def missing(self) -> list[str]:
        """The fields the model may fill (a phone is only ever taken from the text by the rules)."""
        return [f for f in ("name", "company", "stage", "value") if getattr(self, f) is None]

    def problem(self) -> str | None:
        """Why this lead cannot be imported, or None."""
        if not self.name and not self.phone:
            return "no name and no phone"
        return None

    def fields(self) -> dict[str, Any]:
        return {f: getattr(self, f) for f in ("external_id", *FIELDS)}


def fold(text: str) -> str:
    """Lower case without accents: how labels and stage words are compared."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).strip()


# -- blocks -------------------------------------------------------------------------------------
# A marker line opens a customer: "ID do Cliente: 101", "Cliente 102", "ID: 103", "Customer #7".
# The id must hold a digit, so "Cliente: Maria" is a labelled name, not a marker.
_MARKER = re.compile(
    r"^[ \t>*#-]*(?:id\s+do\s+cliente|c[oó]d(?:igo|\.)?\s+do\s+cliente|client[e]?\s+id|customer\s+id|"
    r"id|cliente|client|customer)\s*(?:n[º°o.]?\s*)?[:#=-]?\s*"
    r"(?P<id>(?=[\w./-]*\d)[\w./-]{1,40})\b[ \t]*(?:[-–—:|,][ \t]*)?(?P<rest>.*)$",
    re.IGNORECASE | re.MULTILINE,
)


def split_blocks(text: str) -> list[Block]:
    """Blocks by marker lines; without any marker, by blank lines. Text before the first marker
    is kept as a block only when it looks like a customer (a labelled line or a phone)."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    marks = list(_MARKER.finditer(text))
    if not marks:
        parts = re.split(r"\n[ \t]*\n", text)
        return [Block(None, p.strip()) for p in parts if p.strip()][:MAX_BLOCKS]
    blocks: list[Block] = []
    head = text[: marks[0].start()].strip()
    if head and (_labelled_lines(head) or find_phone(head)):
        blocks.append(Block(None, head))
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        body = (m.group("rest") + "\n" + text[m.end() : end]).strip()
        blocks.append(Block(m.group("id").strip(".-/"), body))
    return blocks[:MAX_BLOCKS]


# -- labelled lines ---------------------------------------------------------------------------------
_LABELS: dict[str, str] = {}
for _field, _words in {
    "name": "nome|name|nome do cliente|cliente|contato|contact|responsavel|customer|client|lead",
    "phone": "telefone|tel|fone|celular|cel|whatsapp|whats|zap|phone|mobile|telephone|numero|contato telefone",
    "company": "empresa|company|companhia|razao social|loja|negocio da empresa|organizacao|organization",
    "stage": "etapa|estagio|fase|status|stage|funil|pipeline|situacao",
    "value": "valor|value|orcamento|ticket|deal|valor do negocio|potencial|valor estimado|amount|budget|preco",
    "tags": "tags|tag|etiquetas|etiqueta|marcadores|categorias|categoria|segmento",
    "notes": "obs|observacao|observacoes|notas|nota|notes|note|comentario|comentarios|detalhes|descricao",
    "score": "score|lead score|pontuacao|temperatura do lead",
    "email": "email|e-mail",
    "external_id": "id|id do cliente|codigo|codigo do cliente|external_id|external id|client id|customer id",
}.items():
    for _w in _words.split("|"):
        _LABELS[_w] = _field
_LABEL_LINE = re.compile(r"^[ \t]*[-*•]?[ \t]*([^\W\d_][\w .-]{0,30}?)[ \t]*[:=][ \t]*(.*)$")


def _labelled_lines(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        m = _LABEL_LINE.match(line)
        if m and fold(m.group(1)) in _LABELS:
            out.append((_LABELS[fold(m.group(1))], m.group(2).strip()))
    return out


# -- values ---------------------------------------------------------------------------------------
_PHONE = re.compile(r"(?<![\d])(?:\+?\s?55[\s.-]*)?\(?\s?[1-9]\d\s?\)?[\s.-]*(?:9[\s.]?)?\d{4}[\s.-]?\d{4}(?!\d)")


def normalize_phone(raw: str) -> str | None:
    """A Brazilian number as +55DDDNUMBER; other international numbers (+ and 8-15 digits) as given."""
    digits = re.sub(r"\D", "", raw)
    if raw.strip().startswith("+") and not digits.startswith("55"):
        return "+" + digits if 8 <= len(digits) <= 15 else None
    if len(digits) in (12, 13) and digits.startswith("55"):
        digits = digits[2:]
    if len(digits) in (10, 11) and digits[0] != "0" and digits[1] != "0":
        if len(digits) == 11 and digits[2] != "9":
            return None  # an 11-digit mobile starts with 9 after the area code
        return "+55" + digits
    return None


def find_phone(text: str) -> str | None:
    for m in _PHONE.finditer(text):
        phone = normalize_phone(m.group(0))
        if phone:
            return phone
    return None


_SCALE = {"mil": 1e3, "k": 1e3, "mi": 1e6, "milhao": 1e6, "milhoes": 1e6, "m": 1e6, "bi": 1e9}
_MONEY = re.compile(
    r"(?P<cur>r\$|brl|us\$|\$)?\s*(?P<num>\d[\d.,]*)\s*(?P<scale>mil|milh[aã]o|milh[oõ]es|mi|bi|k|m)?\b",
    re.IGNORECASE,
)


def _number(text: str) -> float | None:
    """'12.500,00', '12,5', '12500', '12,500.00', '1.5' as a number (pt-BR first)."""
    if "," in text and "." in text:
        dec = "," if text.rfind(",") > text.rfind(".") else "."
        thousands = "." if dec == "," else ","
        text = text.replace(thousands, "").replace(dec, ".")
    elif "," in text:
        text = text.replace(",", "") if re.fullmatch(r"\d{1,3}(,\d{3}){2,}", text) else text.replace(",", ".")
    elif "." in text and re.fullmatch(r"\d{1,3}(\.\d{3})+", text):
        text = text.replace(".", "")
    try:
        return float(text)
    except ValueError:
        return None


def parse_money(text: str, *, labelled: bool = False) -> float | None:
    """An amount: 'R$ 12.500,00', '12,5 mil', 'R$ 3k', '1,2 milhão'. Unlabelled text needs R$ or a
    scale word, so a date or a count is not taken for a value."""
    for m in _MONEY.finditer(text):
        if not (labelled or m.group("cur") or m.group("scale")):
            continue
        num = _number(m.group("num").rstrip(".,"))
        if num is None:
            continue
        scale = fold(m.group("scale") or "")
        if scale == "m" and not m.group("cur"):
            continue  # "5 m" is as likely metres as millions
        value = num * _SCALE.get(scale, 1)
        if 0 <= value <= MAX_VALUE:
            return round(value, 2)
    return None


_STAGE_WORDS = {
    WON: "ganho|ganha|fechado|fechada|fechou|vendido|venda realizada|convertido|won|closed won|closed|cliente ativo",
    LOST: "perdido|perdida|perdeu|desistiu|cancelado|cancelou|lost|closed lost|sem interesse|descartado",
    PROPOSAL: "proposta|proposta enviada|orcamento enviado|negociacao|em negociacao|proposal|negotiation|quote",
    QUALIFIED: "qualificado|qualificada|interessado|interessada|qualified|interested|reuniao agendada|demo",
    LEAD: "lead|novo|nova|prospect|prospeccao|contato inicial|new|primeiro contato|frio",
}
_STAGE_RES = [
    (stage, re.compile(r"\b(?:" + words.replace(" ", r"\s+") + r")\b")) for stage, words in _STAGE_WORDS.items()
]


def parse_stage(text: str) -> str | None:
    folded = fold(text)
    if folded in STAGES:
        return folded
    for stage, rx in _STAGE_RES:
        if rx.search(folded):
            return stage
    return None


def parse_tags(text: str) -> list[str]:
    tags = [t.strip(" #\t") for t in re.split(r"[,;|#]", text)]
    return sorted({t[:50] for t in tags if t})[:50]


def parse_score(text: str) -> int | None:
    m = re.search(r"\d{1,3}", text)
    if m and 0 <= int(m.group(0)) <= 100:
        return int(m.group(0))
    return None


_HOT = re.compile(r"\b(urgente|quente|hot|prioridade|decisor|pronto para comprar)\b")
_COLD = re.compile(r"\b(frio|cold|sem orcamento|sem verba|so pesquisando)\b")
_STAGE_SCORE = {LEAD: 20, QUALIFIED: 45, PROPOSAL: 65, WON: 90, LOST: 5}


def lead_score(lead: Lead) -> int:
    """0-100 from how far the lead went and how much we know about it."""
    score = _STAGE_SCORE.get(lead.stage or LEAD, 20)
    score += 10 if lead.phone else 0
    score += 10 if lead.value else 0
    score += 5 if lead.company else 0
    words = fold((lead.notes or "") + " " + " ".join(lead.tags))
    score += 10 if _HOT.search(words) else 0
    score -= 10 if _COLD.search(words) else 0
    return max(0, min(100, score))


# -- a whole lead -----------------------------------------------------------------------------------
def _set(lead: Lead, key: str, raw: str) -> None:
    """One labelled value; a value the rules cannot read is noted, never guessed."""
    raw = raw.strip()[:MAX_FIELD_CHARS]
    if not raw:
        return
    if key == "phone":
        phone = find_phone(raw) or normalize_phone(raw)
        if phone:
            lead.phone = lead.phone or phone
        else:
            lead.warnings.append("phone not understood")
    elif key == "value":
        value = parse_money(raw, labelled=True)
        if value is None:
            lead.warnings.append("value not understood")
        else:
            lead.value = value
    elif key == "stage":
        stage = parse_stage(raw)
        if stage is None:
            lead.warnings.append("stage not understood")
        else:
            lead.stage = stage
    elif key == "tags":
        lead.tags = sorted(set(lead.tags) | set(parse_tags(raw)))[:50]
    elif key == "score":
        lead.score = parse_score(raw)
    elif key in ("notes", "email"):
        note = raw if key == "notes" else f"E-mail: {raw}"
        lead.notes = f"{lead.notes}\n{note}" if lead.notes else note
    elif key == "external_id":
        lead.external_id = lead.external_id or raw[:100]
    elif key in ("name", "company"):
        setattr(lead, key, getattr(lead, key) or raw[:200])


def parse_block(block: Block) -> Lead:
    """What the rules read from one block: labelled lines first, then unlabelled ones (a phone, an
    R$ amount, a short stage line, the first other line as the name, the rest as notes)."""
    lead = Lead(external_id=block.external_id)
    loose: list[str] = []
    for line in block.text.splitlines():
        m = _LABEL_LINE.match(line)
        if m and fold(m.group(1)) in _LABELS:
            _set(lead, _LABELS[fold(m.group(1))], m.group(2))
        elif line.strip(" \t-*•=_"):
            loose.append(line.strip(" \t-*•"))
    notes: list[str] = []
    for line in loose:
        phone = find_phone(line)
        value = parse_money(line)
        stage = parse_stage(line) if len(line.split()) <= 3 else None
        short = len(line.split()) <= 4
        if phone and not lead.phone and len(re.sub(r"[\d\s()+.-]", "", line)) <= 12:
            lead.phone = phone
            rest = _PHONE.sub("", line).strip(" -–—|,:")
            if rest and not lead.name and not re.search(r"\d", rest) and len(rest.split()) <= 6:
                lead.name = rest[:200]  # "Maria Souza - (11) 98765-4321"
        elif value is not None and lead.value is None and short:
            lead.value = value
        elif stage and lead.stage is None:
            lead.stage = stage
        elif not lead.name and not notes and _looks_like_name(line):
            lead.name = line[:200]
        else:
            # A sentence keeps its text in the notes; a phone or an R$ amount in it is still read.
            lead.phone = lead.phone or phone
            if lead.value is None:
                lead.value = value
            notes.append(line)
    if notes:
        extra = "\n".join(notes)[:MAX_FIELD_CHARS]
        lead.notes = f"{lead.notes}\n{extra}" if lead.notes else extra
    return lead


def _looks_like_name(line: str) -> bool:
    words = line.split()
    return 1 <= len(words) <= 6 and not re.search(r"[\d@:/?!]", line) and any(w[0].isupper() for w in words)


def finish(lead: Lead) -> Lead:
    """Defaults once rules (and the model) have spoken: the first stage, a computed score."""
    if lead.score is None:
        lead.score = lead_score(lead)
    return lead


# -- CSV ------------------------------------------------------------------------------------------------
def decode(raw: bytes) -> str:
    """An uploaded file's text: UTF-8 (with or without BOM), else Windows-1252."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def csv_leads(text: str) -> list[Lead]:
    """One lead per row under a header row; the delimiter (';' or ',') is the one the header uses
    most. Columns the header does not name go to the notes as 'Column: value'."""
    text = text.lstrip("\ufeff")
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") >= first.count(",") and ";" in first else ","
    rows = csv.reader(io.StringIO(text), delimiter=delimiter)
    header = next(rows, None)
    if not header:
        return []
    keys = [_LABELS.get(fold(h).replace("_", " "), _LABELS.get(fold(h))) for h in header]
    leads = []
    for row in rows:
        if not any(cell.strip() for cell in row):
            continue
        lead = Lead()
        for i, cell in enumerate(row[: len(header)]):
            if keys[i]:
                _set(lead, keys[i], cell)
            elif cell.strip():
                _set(lead, "notes", f"{header[i].strip()}: {cell.strip()}")
        leads.append(lead)
        if len(leads) >= MAX_BLOCKS:
            break
    return leads


def stage_mentioned(text: str, stage: str) -> bool:
    folded = fold(text)
    return any(s == stage and rx.search(folded) for s, rx in _STAGE_RES)


def fill_from_model(lead: Lead, text: str, answer: dict[str, Any]) -> None:
    """Take from the model's answer only what the rules left empty and the block backs up: a name
    (a few words, no digits) or company written in it, a stage whose words it holds, an amount
    written in it."""
    folded = fold(text)
    for key in ("name", "company"):
        value = answer.get(key)
        other = fold(getattr(lead, "name" if key == "company" else "company") or "")
        if getattr(lead, key) is None and isinstance(value, str) and len(value.strip()) >= 2:
            fits = _looks_like_name(value) if key == "name" else len(value.split()) <= 6
            if fits and fold(value) in folded and fold(value) != other:
                setattr(lead, key, value.strip()[:200])
    stage = answer.get("stage")
    if lead.stage is None and stage in STAGES and stage_mentioned(text, stage):
        lead.stage = stage
    value = answer.get("value")
    if lead.value is None and isinstance(value, str) and value.strip() and fold(value) in folded:
        lead.value = parse_money(value, labelled=True)

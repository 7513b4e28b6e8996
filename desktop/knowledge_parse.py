"""Turning what an admin loads into the knowledge base into passages: pasted or uploaded text
(TXT, Markdown, PDF) split into paragraphs of a retrievable size, and a catalogue CSV (one
passage per row, its columns kept as fields: product, price, stock, sku, …).

Pure: no store, no model. A passage is (text, fields); the store gives it an id.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from desktop.errors import InvalidInput

# A passage is what retrieval returns and what a prompt quotes: a paragraph or two. Short
# paragraphs are joined up to TARGET, a longer one is cut at sentence ends near MAX.
TARGET_CHARS = 500
MAX_CHARS = 900
MAX_ROWS = 20_000
KINDS = ("text", "csv", "txt", "md", "pdf")

# Catalogue columns we recognise, by folded header (no accents, lower case); others are kept as is.
_COLUMNS = {
    "product": ("produto", "product", "nome", "name", "item", "descricao", "description", "titulo", "title"),
    "price": ("preco", "price", "valor", "preco (r$)", "preco r$", "valor (r$)", "preco_venda", "preco venda"),
    "stock": ("estoque", "stock", "quantidade", "qtd", "qtde", "disponivel", "saldo"),
    "sku": ("sku", "codigo", "cod", "code", "ref", "referencia", "id"),
}
_LABELS = {"price": "preço", "stock": "estoque", "sku": "SKU"}
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+")


@dataclass(frozen=True)
class ParsedPassage:
    text: str
    fields: dict[str, str] = field(default_factory=dict)


def _fold(text: str) -> str:
    nfkd = unicodedata.normalize("NFKD", text.strip().lower())
    return "".join(c for c in nfkd if not unicodedata.combining(c))


# -- free text ---------------------------------------------------------------------------------
def split_text(text: str) -> list[ParsedPassage]:
    """Paragraphs (blank-line separated; a Markdown heading starts a section and is carried
    into each of its passages) joined or cut to about TARGET_CHARS."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    out: list[ParsedPassage] = []
    heading = ""
    buf: list[str] = []

    def flush() -> None:
        if buf:
            body = "\n".join(buf).strip()
            if body:
                out.append(ParsedPassage(f"{heading}\n{body}" if heading else body))
            buf.clear()

    for para in _paragraphs(text):
        h = _HEADING.match(para.split("\n", 1)[0])
        if h:
            flush()
            heading = h.group(1).strip()
            para = para.split("\n", 1)[1].strip() if "\n" in para else ""
            if not para:
                continue
        for piece in _cut(para):
            if buf and sum(len(b) for b in buf) + len(piece) > TARGET_CHARS:
                flush()
            buf.append(piece)
    flush()
    if not out and heading:  # a document that is only a heading
        out.append(ParsedPassage(heading))
    return out


def _paragraphs(text: str) -> list[str]:
    paras, cur = [], []
    for line in text.split("\n"):
        if not line.strip():
            if cur:
                paras.append("\n".join(cur).strip())
                cur = []
        elif _HEADING.match(line):
            if cur:
                paras.append("\n".join(cur).strip())
            paras.append(line.strip())
            cur = []
        else:
            cur.append(line.rstrip())
    if cur:
        paras.append("\n".join(cur).strip())
    return [p for p in paras if p]


def _cut(para: str) -> list[str]:
    """A paragraph longer than MAX_CHARS in sentence-aligned pieces (a hard cut when a sentence
    alone is too long)."""
    if len(para) <= MAX_CHARS:
        return [para]
    pieces, cur = [], ""
    for sentence in _SENTENCE_END.split(para):
        while len(sentence) > MAX_CHARS:
            cut = sentence.rfind(" ", 0, MAX_CHARS)
            cut = cut if cut > MAX_CHARS // 2 else MAX_CHARS
            if cur:
                pieces.append(cur)
                cur = ""
            pieces.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if cur and len(cur) + 1 + len(sentence) > TARGET_CHARS:
            pieces.append(cur)
            cur = sentence
        else:
            cur = f"{cur} {sentence}".strip()
    if cur:
        pieces.append(cur)
    return pieces


# -- catalogue CSV -----------------------------------------------------------------------------
def parse_csv(text: str) -> list[ParsedPassage]:
    """One passage per row of a catalogue with a header row (`;` or `,`). Known columns get
    canonical field names (product, price, stock, sku); a price is written as R$ 1.299,90."""
    text = text.lstrip("\ufeff")
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if len(lines) < 2:
        raise InvalidInput("the CSV needs a header row and at least one row", field="csv")
    delimiter = ";" if lines[0].count(";") >= lines[0].count(",") and ";" in lines[0] else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    try:
        rows = [r for r in reader if any(c.strip() for c in r)]
    except csv.Error as e:
        raise InvalidInput(f"the CSV cannot be read: {e}", field="csv") from None
    header = [h.strip() for h in rows[0]]
    if not any(header):
        raise InvalidInput("the CSV's first row must name its columns", field="csv")
    if len(rows) - 1 > MAX_ROWS:
        raise InvalidInput(f"the CSV has more than {MAX_ROWS} rows", field="csv")
    names = _column_names(header)
    out = []
    for row in rows[1:]:
        fields = {}
        for name, value in zip(names, row, strict=False):
            value = value.strip()
            if name and value:
                fields[name] = format_price(value) if name == "price" else value
        if fields:
            out.append(ParsedPassage(_row_text(fields), fields))
    if not out:
        raise InvalidInput("the CSV has no rows with values", field="csv")
    return out


def _column_names(header: list[str]) -> list[str]:
    names, taken = [], set()
    for h in header:
        folded = _fold(h)
        name = next((k for k, alias in _COLUMNS.items() if folded in alias and k not in taken), None)
        name = name or (h if h and h not in taken else "")
        taken.add(name)
        names.append(name)
    return names


def _row_text(fields: dict[str, str]) -> str:
    """Readable and searchable: "Vestido floral — preço R$ 199,90 — estoque 12 — SKU VF-01"."""
    parts = [fields["product"]] if "product" in fields else []
    parts += [f"{_LABELS[k]} {fields[k]}" for k in ("price", "stock", "sku") if k in fields]
    parts += [f"{k}: {v}" for k, v in fields.items() if k not in _COLUMNS]
    return " — ".join(parts)


def format_price(raw: str) -> str:
    """`199.9`, `199,90`, `R$ 1.299,90`, `1,299.90` → `R$ 1.299,90`; anything else as written."""
    s = re.sub(r"(?i)^\s*r\$\s*", "", raw).strip()
    if not re.fullmatch(r"[0-9][0-9.,]*", s):
        return raw
    if "," in s and "." in s:
        s = s.replace(".", "").replace(",", ".") if s.rfind(",") > s.rfind(".") else s.replace(",", "")
    elif "," in s:
        s = s.replace(".", "").replace(",", ".") if re.search(r",[0-9]{1,2}$", s) else s.replace(",", "")
    elif s.count(".") > 1 or re.search(r"\.[0-9]{3}$", s):
        s = s.replace(".", "")
    try:
        value = Decimal(s).quantize(Decimal("0.01"))
    except InvalidOperation:
        return raw
    whole, cents = f"{value:,.2f}".split(".")
    return f"R$ {whole.replace(',', '.')},{cents}"


# -- uploaded files ----------------------------------------------------------------------------
def kind_of(filename: str, content_type: str = "") -> str:
    """txt, md, pdf or csv, from the file's name (or its content type)."""
    ext = filename.rsplit(".", 1)[-1].lower() if "." in filename else ""
    by_ext = {"txt": "txt", "text": "txt", "md": "md", "markdown": "md", "pdf": "pdf", "csv": "csv"}
    by_type = {"text/plain": "txt", "text/markdown": "md", "application/pdf": "pdf", "text/csv": "csv"}
    kind = by_ext.get(ext) or by_type.get(content_type.split(";")[0].strip().lower())
    if kind is None:
        raise InvalidInput("upload a .txt, .md, .pdf or .csv file", field="file")
    return kind


def decode_text(raw: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252 (spreadsheets saved on Windows)."""
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def pdf_text(raw: bytes) -> str:
    """The text layer of a PDF, pages separated by blank lines (a scanned PDF has none)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(raw))
        pages = [(p.extract_text() or "").strip() for p in reader.pages]
    except (PdfReadError, ValueError, KeyError, TypeError) as e:
        raise InvalidInput(f"the PDF cannot be read: {str(e)[:80]}", field="file") from None
    text = "\n\n".join(p for p in pages if p)
    if not text.strip():
        raise InvalidInput("the PDF has no text layer (a scan?): paste its text instead", field="file")
    return text


def passages_of(kind: str, source: str) -> list[ParsedPassage]:
    """The passages of a stored document; InvalidInput when there are none."""
    out = parse_csv(source) if kind == "csv" else split_text(source)
    if not out:
        raise InvalidInput("the document has no text", field="text")
    return out

"""JSON Schemas of the API's bodies (API.md), as served in the OpenAPI description.

Request schemas say what `desktop.validation` accepts; what a schema cannot say (a real
calendar time, no lone surrogates, a user that exists) is left to the validation, which
answers 400 naming the field. Response schemas list what clients may rely on; more fields
may be added (API.md: additions are fine), so they never forbid extra properties.
"""

from __future__ import annotations

from typing import Any

from desktop.config import Settings
from desktop.pipeline import STAGES, STATUSES
from desktop.validation import DIRECTIONS, KINDS, MAX_VALUE
from llm.tasks import INTENTS, SENTIMENTS

Schema = dict[str, Any]
FEEDBACK_ACTIONS = ("inserted", "sent", "edited", "dismissed")


def nullable(schema: Schema) -> Schema:
    kind = schema.get("type")
    if kind is None:
        return {"anyOf": [schema, {"type": "null"}]}
    return {**schema, "type": [kind, "null"] if isinstance(kind, str) else [*kind, "null"]}


def obj(required: tuple[str, ...] = (), closed: bool = False, **properties: Schema) -> Schema:
    out: Schema = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if closed:
        out["additionalProperties"] = False
    return out


STR: Schema = {"type": "string"}
TEXT: Schema = {"type": "string", "pattern": r"\S"}  # not empty, not only spaces
ID: Schema = {"type": "string", "minLength": 1}
NUMBER: Schema = {"type": "number"}
INT: Schema = {"type": "integer", "minimum": 0}
ISO_TIME: Schema = {"type": "string", "description": "ISO 8601"}
ERROR_BODY: Schema = obj(("code", "message"), code=STR, message=STR)
DEVICE: Schema = {
    "description": "a name for this browser or app",
    "anyOf": [{"type": "string"}, obj(name=STR)],
}

# -- requests -----------------------------------------------------------------------------------
LOCAL_TIME_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,6})?)?$"


def capture(settings: Settings) -> Schema:
    message = obj(
        ("id", "direction"),
        id={"type": "string", "minLength": 1, "maxLength": 300},
        direction={"enum": list(DIRECTIONS)},
        kind={"enum": list(KINDS), "default": "text"},
        text=nullable({"type": "string", "maxLength": settings.max_text_chars}),
        timestamp=nullable(
            {
                "type": "string",
                "maxLength": 40,
                "pattern": LOCAL_TIME_PATTERN,
                "description": "a real local time without offset (client.tz_offset_minutes gives it)",
            }
        ),
        author=nullable({"type": "string", "maxLength": 300}),
    )
    chat = obj(
        id=nullable({"type": "string", "maxLength": 200}),
        title=nullable({"type": "string", "maxLength": 500}),
        phone=nullable({"type": "string", "maxLength": 40}),
        is_group={"type": "boolean", "default": False},
    )
    chat["description"] = "needs a non-empty id or title"
    chat["anyOf"] = [
        {"required": ["id"], "properties": {"id": {"type": "string", "minLength": 1}}},
        {"required": ["title"], "properties": {"title": {"type": "string", "minLength": 1}}},
    ]
    return obj(
        ("chat", "messages"),
        chat=chat,
        messages={"type": "array", "maxItems": settings.max_messages, "items": message},
        captured_at=ISO_TIME,
        client=nullable(obj(extension_version=STR, locale=STR, tz_offset_minutes={"type": "integer"})),
    )


LOGIN = obj(("username", "password"), username=TEXT, password={"type": "string", "minLength": 1}, device=DEVICE)
SETUP = obj(
    ("username", "password"),
    username={"type": "string", "pattern": r"^[A-Za-z0-9_.@-]{2,64}$"},
    password={"type": "string", "minLength": 8, "maxLength": 1024},
    device=DEVICE,
)
PAIR = obj(("code",), code=TEXT, device=DEVICE)
REFRESH = obj(("refresh_token",), refresh_token=ID)
PAIRING_CODE_REQUEST = obj(user={**ID, "description": "the user the code signs in as (default: the caller)"})
STATUS = obj(("status",), status={"enum": list(STATUSES)})
LABELS = {
    **obj(sentiment={"enum": list(SENTIMENTS)}, intent={"enum": list(INTENTS)}),
    "anyOf": [{"required": ["sentiment"]}, {"required": ["intent"]}],
}
FEEDBACK = obj(("action",), action={"enum": list(FEEDBACK_ACTIONS)})
CONTACT_PATCH = obj(
    closed=True,
    stage={"enum": list(STAGES)},
    value=nullable({"type": "number", "minimum": 0, "maximum": MAX_VALUE}),
    tags={"type": "array", "items": {"type": "string", "minLength": 1, "maxLength": 50}},
    notes=nullable({"type": "string", "maxLength": 10_000}),
    name=nullable({"type": "string", "maxLength": 10_000}),
    phone=nullable({"type": "string", "maxLength": 10_000}),
    owner=nullable({**ID, "description": "a user's id (admins only)"}),
)
CONTACT_IMPORT = {
    **obj(
        closed=True,
        text={**TEXT, "description": "pasted customers, split by markers (ID do Cliente: 101) or blank lines"},
        csv={**TEXT, "description": "CSV with a header row; ; or , detected"},
        dry_run={"type": "boolean", "default": False, "description": "answer the preview, write nothing"},
        use_model={"type": "boolean", "default": True, "description": "let the model fill what rules miss"},
    ),
    "oneOf": [{"required": ["text"]}, {"required": ["csv"]}],
}
_QUICK_REPLY_FIELDS: dict[str, Schema] = {
    "shortcut": {"type": "string", "pattern": r"^/?[A-Za-z0-9_-]{1,32}$"},
    "text": {"type": "string", "pattern": r"\S", "maxLength": 2000},
    "intents": {"type": "array", "items": {"enum": list(INTENTS)}},
}
QUICK_REPLY_CREATE = obj(("shortcut", "text"), **_QUICK_REPLY_FIELDS)
QUICK_REPLY_PATCH = obj(**_QUICK_REPLY_FIELDS)

# -- responses -----------------------------------------------------------------------------------
TOKENS = obj(
    ("access_token", "refresh_token", "token_type", "expires_in", "user"),
    access_token=STR,
    refresh_token=STR,
    token_type={"const": "Bearer"},
    expires_in=INT,
    user=obj(("id", "username", "role"), id=STR, username=STR, role={"enum": ["admin", "attendant"]}),
)
MODEL_STATUS = obj(("id", "state"), id=nullable(STR), state={"enum": ["ready", "loading", "unavailable"]})
HEALTH = obj(("status", "version", "model"), status={"const": "ok"}, version=STR, model=MODEL_STATUS)
PAIRING_CODE = obj(("code", "expires_in"), code=STR, expires_in=INT)
CAPTURE_RESULT = obj(
    ("conversation_id", "new_messages", "analysis"),
    conversation_id=STR,
    new_messages=INT,
    analysis={"enum": ["queued", "unchanged", "skipped", "unavailable"]},
)
LABEL_SCORE = obj(("label",), label=STR, score=nullable(NUMBER))
LABEL_CONFIDENCE = obj(("label",), label=STR, confidence=nullable(NUMBER))
CONVERSATION_ITEM = obj(
    ("id", "status", "contact_id"),
    id=STR,
    title=nullable(STR),
    status={"enum": list(STATUSES)},
    is_group={"type": "boolean"},
    contact_id=STR,
    stage=nullable({"enum": list(STAGES)}),
    value=nullable(NUMBER),
    owner=nullable(STR),
    message_count=nullable(INT),
    insight=nullable(obj(("state",), state=STR)),
    waiting_seconds=nullable(
        {**NUMBER, "description": "how long the customer's unanswered message has waited (null: answered or resolved)"}
    ),
)
CONVERSATION_PAGE = obj(
    ("items", "next_cursor"),
    items={"type": "array", "items": CONVERSATION_ITEM},
    next_cursor=nullable({**STR, "description": "pass as ?cursor= for the next page"}),
)
CONTACT = obj(
    ("id", "stage", "tags", "owner"),
    id=STR,
    name=nullable(STR),
    phone=nullable(STR),
    is_group={"type": "boolean"},
    stage={"enum": list(STAGES)},
    value=nullable(NUMBER),
    tags={"type": "array", "items": STR},
    notes=nullable(STR),
    company=nullable(STR),
    external_id=nullable({**STR, "description": "the client id in the CRM a lead import came from"}),
    lead_score=nullable({"type": "integer", "minimum": 0, "maximum": 100}),
    owner=nullable(STR),
)
CONTACT_LIST = obj(("items",), items={"type": "array", "items": CONTACT})
MESSAGE = obj(
    ("id", "direction", "kind"),
    id=STR,
    direction={"enum": list(DIRECTIONS)},
    kind={"enum": list(KINDS)},
    author=nullable(STR),
    timestamp=nullable(STR),
    text=nullable(STR),
)
CONVERSATION = obj(
    ("id", "status", "contact", "messages"),
    id=STR,
    title=nullable(STR),
    status={"enum": list(STATUSES)},
    is_group={"type": "boolean"},
    contact=CONTACT,
    messages={"type": "array", "items": MESSAGE},
)
STATUS_RESULT = obj(("id", "status"), id=STR, status={"enum": list(STATUSES)})
ANALYSIS_RESULT = obj(
    ("conversation_id", "analysis"), conversation_id=STR, analysis={"enum": ["queued", "unavailable"]}
)
INSIGHT = obj(
    ("conversation_id", "state"),
    conversation_id=STR,
    state={"enum": ["pending", "ready", "unavailable"]},
    error=nullable(ERROR_BODY),
    sentiment=nullable(LABEL_SCORE),
    intent=nullable(LABEL_CONFIDENCE),
    summary=nullable(STR),
    suggestions={"type": "array", "items": obj(("text",), id=STR, text=STR)},
    model=nullable(STR),
)
INSIGHT_HISTORY = obj(
    ("items",),
    items={
        "type": "array",
        "items": obj(("sentiment", "intent"), id=STR, sentiment=LABEL_SCORE, intent=LABEL_CONFIDENCE, created_at=STR),
    },
)
SSE = {"type": "string", "description": "Server-Sent Events: state, labels, suggestion, insight"}
_COUNTS = obj(("p50", "p90", "n"), p50=nullable(NUMBER), p90=nullable(NUMBER), n=INT)
_SCORE: Schema = {"type": "integer", "minimum": 0, "maximum": 100}
_CONTACT_REF = obj(("contact_id", "name"), contact_id=STR, name=nullable(STR), stage=STR, value=NUMBER)
METRICS = obj(
    ("volumes", "sentiment", "intent", "first_response_seconds", "resolution_seconds", "funnel"),
    user=nullable(STR),
    volumes={"type": "object", "additionalProperties": INT},
    sentiment={"type": "object", "additionalProperties": INT},
    intent={"type": "object", "additionalProperties": INT},
    first_response_seconds=_COUNTS,
    resolution_seconds=_COUNTS,
    funnel={"type": "array", "items": obj(("stage", "contacts"), stage=STR, contacts=INT, value=NUMBER)},
    pipeline_value=NUMBER,
    daily={
        "type": "array",
        "description": "per local day of the period: conversations with a message, customer messages, "
        "sentiments of the analyses made that day",
        "items": obj(
            ("day", "conversations", "messages_in", "sentiment"),
            day=STR,
            conversations=INT,
            messages_in=INT,
            sentiment={"type": "object", "additionalProperties": INT},
        ),
    },
    attendants={
        "type": "array",
        "description": "one row per attendant (an attendant gets only their own)",
        "items": obj(
            ("user", "conversations", "first_response_seconds", "resolution_seconds", "suggestions"),
            user=STR,
            username=nullable(STR),
            conversations=INT,
            first_response_seconds=_COUNTS,
            first_response_sla_met=nullable(NUMBER),
            resolution_seconds=obj(("p50", "n"), p50=nullable(NUMBER), n=INT),
            negative_share=nullable(NUMBER),
            suggestions={"type": "object", "additionalProperties": INT},
        ),
    },
    sla=obj(
        ("first_response_minutes", "resolution_hours", "first_response_met", "resolution_met"),
        first_response_minutes=NUMBER,
        resolution_hours=NUMBER,
        first_response_met=nullable(NUMBER),
        first_response_n=INT,
        resolution_met=nullable(NUMBER),
        resolution_n=INT,
    ),
    top_contacts={"type": "array", "items": _CONTACT_REF},
    health=obj(
        ("as_of", "threshold", "contacts_scored", "contacts"),
        as_of=ISO_TIME,
        threshold=INT,
        contacts_scored=INT,
        average=nullable(NUMBER),
        contacts={
            "type": "array",
            "description": "lowest score first",
            "items": obj(
                ("contact_id", "score", "reasons"),
                contact_id=STR,
                score=_SCORE,
                previous=nullable(_SCORE),
                reasons={"type": "array", "items": STR},
            ),
        },
    ),
    at_risk={
        "type": "array",
        "description": "contacts below the health threshold or falling, lowest score first",
        "items": obj(
            ("contact_id", "name", "score", "reasons"),
            contact_id=STR,
            name=nullable(STR),
            score=_SCORE,
            previous=nullable(_SCORE),
            stage=STR,
            waiting_seconds=nullable(NUMBER),
            days_since_last_message=nullable(NUMBER),
            reasons={"type": "array", "items": obj(("code", "text"), code=STR, text=STR)},
        ),
    },
)
_IMPORT_ROW = obj(
    ("row", "action"),
    row={**INT, "description": "block or data row, from 1"},
    action={"enum": ["created", "updated", "unchanged", "rejected"]},
    contact_id=nullable(STR),
    fields={"type": "array", "items": STR, "description": "fields set or changed"},
    reason=STR,
    warnings={"type": "array", "items": STR},
    lead={"type": "object", "description": "dry run only, while the server keeps it: the values read"},
)
CONTACT_IMPORT_RESULT = obj(
    ("dry_run", "counts", "rows"),
    dry_run={"type": "boolean"},
    counts={"type": "object", "additionalProperties": INT},
    rows={"type": "array", "items": _IMPORT_ROW},
)
JOB = obj(
    ("id", "kind", "state"),
    id=STR,
    kind=STR,
    state={"enum": ["queued", "running", "done", "failed", "cancelled"]},
    done=nullable(INT),
    total=nullable(INT),
    message=nullable(STR),
    result={
        "description": "when done, what the job produced; contacts.import: counts and a row per block",
        "anyOf": [CONTACT_IMPORT_RESULT, {"type": ["object", "null"]}],
    },
)
QUICK_REPLY = obj(
    ("id", "shortcut", "text", "intents"),
    id=STR,
    shortcut=STR,
    text=STR,
    intents={"type": "array", "items": STR},
)
QUICK_REPLY_LIST = obj(("items",), items={"type": "array", "items": QUICK_REPLY})
OPENAPI = obj(("openapi", "paths"), openapi=STR, paths={"type": "object"})

# -- administration (users, devices, jobs, settings, audit, exports) -------------------------------
ROLE: Schema = {"enum": ["admin", "attendant"]}
PASSWORD: Schema = {"type": "string", "minLength": 8, "maxLength": 1024}
USER = obj(
    ("id", "username", "role", "disabled"),
    id=STR,
    username=STR,
    role=ROLE,
    disabled={"type": "boolean"},
    created_at=nullable(ISO_TIME),
)
USER_LIST = obj(("items",), items={"type": "array", "items": USER})
USER_CREATE = obj(
    ("username", "password"),
    closed=True,
    username=SETUP["properties"]["username"],
    password=PASSWORD,
    role={**ROLE, "default": "attendant"},
)
USER_PATCH = {
    **obj(closed=True, role=ROLE, password=PASSWORD, disabled={"type": "boolean"}),
    "minProperties": 1,
    "description": "a new password or disabled=true signs the user's devices out (except the caller's)",
}
USER_CHANGED = {**USER, "properties": {**USER["properties"], "devices_signed_out": INT}}
DEVICE_ITEM = obj(
    ("id", "user_id", "name", "paired_at", "active"),
    id=STR,
    user_id=STR,
    username=STR,
    name=STR,
    paired_at=ISO_TIME,
    last_seen=nullable(ISO_TIME),
    revoked_at=nullable(ISO_TIME),
    active={"type": "boolean"},
)
DEVICE_LIST = obj(("items",), items={"type": "array", "items": DEVICE_ITEM})
JOB_LIST = obj(("items",), items={"type": "array", "items": JOB})
_SETTING_TYPES = {"int": {"type": "integer"}, "float": {"type": "number"}, "str": {"type": "string"}}


def settings_patch(settings: Settings) -> Schema:
    """Any of the editable settings (data_dir and the passphrase are not); ranges: see GET /settings."""
    import dataclasses

    props = {
        f.name: _SETTING_TYPES.get(f.type if isinstance(f.type, str) else f.type.__name__, STR)
        for f in dataclasses.fields(settings)
        if f.name not in ("data_dir", "passphrase")
    }
    return {**obj(closed=True, **props), "minProperties": 1}


SETTING = obj(
    ("name", "type", "help", "env", "restart", "secret", "editable"),
    name=STR,
    type=STR,
    value={"description": "the running value (null for a secret)"},
    default={"description": "null for a secret"},
    saved={"description": "the value in settings.toml, if any (used from the next start)"},
    help=STR,
    env=STR,
    from_env={"type": "boolean"},
    restart={"type": "boolean"},
    secret={"type": "boolean"},
    editable={"type": "boolean"},
)
SETTINGS_LIST = obj(("items",), items={"type": "array", "items": SETTING}, file=STR)
_NAMES: Schema = {"type": "array", "items": STR}
SETTINGS_CHANGED = obj(
    ("saved", "applied", "restart_required", "overridden_by_env"),
    saved=_NAMES,
    applied={**_NAMES, "description": "in effect now"},
    restart_required={**_NAMES, "description": "in effect after a restart"},
    overridden_by_env={**_NAMES, "description": "saved, but a CONVERSA_* variable sets them"},
)
AUDIT_ITEM = obj(
    ("id", "at", "action"),
    id=INT,
    at=ISO_TIME,
    user_id=nullable(STR),
    username=nullable(STR),
    device_id=nullable(STR),
    device_name=nullable(STR),
    action=STR,
    target=nullable(STR),
    detail=nullable(STR),
)
AUDIT_PAGE = obj(
    ("items", "next_cursor"),
    items={"type": "array", "items": AUDIT_ITEM},
    next_cursor=nullable({**STR, "description": "pass as ?cursor= for older rows"}),
)
CONTACT_EXPORT = obj(
    ("exported_at", "contact", "conversations"),
    exported_at=ISO_TIME,
    contact=CONTACT,
    conversations={"type": "array", "items": {"type": "object"}},
)
CSV: Schema = {"type": "string", "description": "CSV, UTF-8 with BOM, header row first"}

# -- query parameters ---------------------------------------------------------------------------------
LIMIT: Schema = {"type": "integer", "minimum": 1, "maximum": 200, "default": 50}
SEP: Schema = {"enum": [",", ";"], "default": ",", "description": "cell separator; `;` for pt-BR Excel"}
MOMENT: Schema = {"type": "string", "description": "a day YYYY-MM-DD (in the configured time zone) or an ISO 8601 time"}
DAY: Schema = {"type": "string", "description": "a calendar day, YYYY-MM-DD (inclusive)", "example": "2026-03-10"}

# -- models (admin) -----------------------------------------------------------------------------
MODEL_ID: Schema = {"type": "string", "pattern": r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"}
MODEL_DOWNLOAD = obj(
    ("id",),
    id={**MODEL_ID, "description": "a catalogue id, or the id to give the file at `url`"},
    url={"type": "string", "description": "https:// (http:// only to this machine); omit for a catalogue model"},
)
MODEL_IMPORT = obj(
    ("path",),
    path={"type": "string", "description": "absolute path of a GGUF file on the server's machine"},
    id=MODEL_ID,
)
MODEL_ACTIVE_REQUEST = obj(
    id=MODEL_ID,
    n_ctx={"type": "integer", "minimum": 128, "maximum": 1 << 24},
    n_threads={"type": "integer", "minimum": 0, "maximum": 1024},
    n_gpu_layers={"type": "integer", "minimum": -1, "maximum": 100_000},
    temperature={"type": "number", "minimum": 0, "maximum": 2},
    closed=True,
)
MODEL_TEST_REQUEST = obj(id=MODEL_ID)
ACTIVE_MODEL = obj(
    ("id", "state", "n_ctx", "n_threads", "n_gpu_layers", "temperature"),
    id=nullable(STR),
    state={"enum": ["ready", "loading", "unavailable"]},
    n_ctx=INT,
    n_threads=INT,
    n_gpu_layers={"type": "integer"},
    temperature=NUMBER,
)
GGUF_METADATA = obj(
    ("architecture", "parameters", "quantization", "context_length", "chat_template"),
    architecture=nullable(STR),
    parameters=INT,
    quantization=nullable(STR),
    context_length=nullable(INT),
    chat_template={"type": "boolean"},
    gguf_version=INT,
    tensors=INT,
    name=nullable(STR),
)
MEMORY_FIT = obj(("fits", "needed"), fits={"type": "boolean"}, needed=INT, available=nullable(INT))
MODEL_ITEM = obj(
    ("id", "file", "present", "catalogue", "active"),
    id=STR,
    name=STR,
    file=STR,
    present={"type": "boolean"},
    catalogue={"type": "boolean"},
    active={"type": "boolean"},
    size=nullable(INT),
    sha256=nullable({**STR, "description": "computed by this server (once, then remembered)"}),
    expected_sha256=nullable({**STR, "description": "pinned by the catalogue"}),
    metadata=nullable(GGUF_METADATA),
    error=nullable(STR),
    memory=nullable(MEMORY_FIT),
    licence=STR,
    url=nullable(STR),
    min_ram_gb=nullable(NUMBER),
    recommended=nullable({"type": "boolean"}),
)
MODEL_LIST = obj(
    ("active", "machine", "items"),
    active=ACTIVE_MODEL,
    machine=obj(mem_total=nullable(INT), mem_available=nullable(INT)),
    items={"type": "array", "items": MODEL_ITEM},
)

# -- knowledge base (issue 13) ---------------------------------------------------------------------
KNOWLEDGE_KINDS = ("text", "csv", "txt", "md", "pdf")
KNOWLEDGE_BODY = {
    **obj(
        ("title",),
        closed=True,
        title={"type": "string", "pattern": r"\S", "maxLength": 200},
        text={**TEXT, "description": "FAQ, policy or any text; split into passages at paragraphs"},
        csv={**TEXT, "description": "a catalogue with a header row (; or ,): product, price, stock, sku, …"},
    ),
    "oneOf": [{"required": ["text"]}, {"required": ["csv"]}],
}
KNOWLEDGE_DOC = obj(
    ("id", "title", "kind", "passages"),
    id=STR,
    title=STR,
    kind={"enum": list(KNOWLEDGE_KINDS)},
    filename=nullable(STR),
    passages=INT,
    chars=INT,
    created_at=NUMBER,
    updated_at=NUMBER,
)
KNOWLEDGE_LIST = obj(("items",), items={"type": "array", "items": KNOWLEDGE_DOC})
_PASSAGE_FIELDS = {"type": "object", "additionalProperties": STR, "description": "a catalogue row's columns"}
KNOWLEDGE_DOC_FULL = {
    **KNOWLEDGE_DOC,
    "properties": {
        **KNOWLEDGE_DOC["properties"],
        "text": STR,
        "csv": STR,
        "items": {"type": "array", "items": obj(("id", "text"), id=STR, text=STR, fields=_PASSAGE_FIELDS)},
    },
}
KNOWLEDGE_HITS = obj(
    ("items",),
    items={
        "type": "array",
        "items": obj(
            ("id", "title", "text", "score"), id=STR, title=STR, text=STR, score=NUMBER, fields=_PASSAGE_FIELDS
        ),
    },
)

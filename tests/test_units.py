"""Fast unit tests of pure pieces: settings layering, prompt/result parsing, suggestion rules, metrics."""

from __future__ import annotations

import json

import pytest

from desktop import metrics
from desktop.config import ConfigError, describe, load, settings_table
from llm import tasks
from llm.analysis import parse_suggestions

README = (__import__("pathlib").Path(__file__).resolve().parent.parent / "README.md").read_text("utf-8")


def test_settings_layering_defaults_toml_env_flags(tmp_path):
    (tmp_path / "settings.toml").write_text('port = 9000\nmodel = "x"\n')
    s = load({"data_dir": str(tmp_path)}, env={})
    assert (s.port, s.model, s.host) == (9000, "x", "127.0.0.1")
    s = load({"data_dir": str(tmp_path)}, env={"CONVERSA_PORT": "9100"})
    assert s.port == 9100
    s = load({"data_dir": str(tmp_path), "port": 9200}, env={"CONVERSA_PORT": "9100"})
    assert s.port == 9200
    (tmp_path / "settings.toml").write_text('colour = "blue"\n')
    with pytest.raises(ConfigError, match="unknown setting"):
        load({"data_dir": str(tmp_path)}, env={})


def test_every_setting_has_help_and_the_readme_table_is_current():
    assert all(s["help"] for s in describe())
    assert settings_table() in README, "regenerate with `conversa settings --markdown`"


def test_partial_suggestions_stream_parsing():
    raw = '{"suggestions": ["Oi, tudo bem?", "Claro! \\"Temos\\"\\nsim", "Vou ver'
    assert tasks.partial_suggestions(raw) == ["Oi, tudo bem?", 'Claro! "Temos"\nsim', "Vou ver"]
    assert tasks.partial_suggestions('{"suggestions": [') == []
    done = raw + '"], "summary": "Cliente quer saber."}'
    assert parse_suggestions(done) == (["Oi, tudo bem?", 'Claro! "Temos"\nsim', "Vou ver"], "Cliente quer saber.")
    assert parse_suggestions(raw) == (["Oi, tudo bem?", 'Claro! "Temos"\nsim'], "")


class _Pushed:
    """The real model, with every completion pushed towards tokens that would break the JSON
    (quotes, backslashes, control characters): only the grammar keeps them out or in place."""

    def __init__(self, llama, boost: float = 30.0):
        self.llama = llama
        specials = ['"', '",', '"]', '"}', "\\", "\n", "\t", "\r"]
        self.tokens = sorted({t for s in specials for t in llama.tokenize(s.encode(), add_bos=False, special=False)})
        self.boost = boost

    def _push(self, _ids, scores):
        scores[self.tokens] += self.boost
        return scores

    def tokenize(self, *args, **kwargs):
        return self.llama.tokenize(*args, **kwargs)

    def create_completion(self, *args, **kwargs):
        from llama_cpp import LogitsProcessorList

        return self.llama.create_completion(*args, logits_processor=LogitsProcessorList([self._push]), **kwargs)


@pytest.fixture(scope="module")
def llama(model_file):
    from llama_cpp import Llama

    return Llama(model_path=str(model_file), n_ctx=1024, seed=7, verbose=False)


def test_grammar_output_is_valid_json_for_the_schema(llama):
    """SUGGESTION_GRAMMAR, through the generation path the server uses, yields JSON of the schema
    even when the sampler is pushed hard towards JSON-breaking tokens."""
    from llm.analysis import format_prompt, generate_suggestions

    turns = tasks.turns_from_messages(
        [
            {"direction": "in", "kind": "text", "text": "Oi, o pedido 4471 ainda não chegou. Podem ver?"},
            {"direction": "out", "kind": "text", "text": "Bom dia! Vou verificar."},
            {"direction": "in", "kind": "text", "text": 'Ele diz "em trânsito" faz 5 dias \\ urgente'},
        ]
    )
    tokens, stop = format_prompt(llama, tasks.chat_messages(turns, "pt"))
    pushed = _Pushed(llama)
    for temperature in (0.0, 0.7, 1.3):
        raw, n = generate_suggestions(
            pushed, tokens, stop, temperature=temperature, max_tokens=120, cancelled=lambda: False
        )
        assert raw.startswith(tasks.SUGGESTION_PREFIX) and n > 0
        data = json.loads(raw)  # the whole output, prefix included, is one JSON document
        assert set(data) == set(tasks.SUGGESTION_SCHEMA["required"]), raw
        assert len(data["suggestions"]) == 3 and all(isinstance(s, str) and s for s in data["suggestions"]), raw
        assert isinstance(data["summary"], str) and data["summary"], raw
        assert not any(s[0].isspace() for s in data["suggestions"]), raw
        assert parse_suggestions(raw) == (data["suggestions"], data["summary"])

    # The push is strong enough that, without the grammar, the same output is not that JSON.
    prefix = llama.tokenize(tasks.SUGGESTION_PREFIX.encode(), add_bos=False, special=False)
    free = pushed.create_completion(tokens + prefix, max_tokens=60, temperature=0.0, stop=stop)
    text = tasks.SUGGESTION_PREFIX + free["choices"][0]["text"]
    with pytest.raises((json.JSONDecodeError, AssertionError)):
        data = json.loads(text)
        assert len(data["suggestions"]) == 3 and "summary" in data


def test_language_detection():
    assert tasks.detect_language(["Oi, vocês têm esse vestido no tamanho M?"]) == "pt"
    assert tasks.detect_language(["Hi, do you have this dress in size M?"]) == "en"
    assert tasks.detect_language([""]) == "pt"


TURNS = [
    tasks.Turn("in", "Oi! Quanto custa o vestido floral?"),
    tasks.Turn("out", "Custa R$ 180,41. Segue o link https://loja.exemplo.com.br/p/1"),
    tasks.Turn("in", "Tem desconto no Pix?"),
]


def test_suggestion_rules_drop_bad_candidates_and_fill_three():
    candidates = [
        "Oi! Quanto custa o vestido floral?",  # echo of the customer
        "Temos 10% de desconto no Pix, veja www.promo.com",  # invented number and link
        "Sim! O vestido custa R$ 180,41 no Pix.",  # number from the conversation: fine
        "{suggestion1}",  # placeholder junk
        "Hi there, how can I help you today with that?",  # wrong language
        "Sim! O vestido custa R$ 180,41 no Pix.",  # duplicate
    ]
    out = tasks.finalize_suggestions(candidates, "pt", "purchase_pricing", TURNS, "Mariana Costa")
    assert len(out) == 3 and len(set(out)) == 3
    assert out[0] == "Sim! O vestido custa R$ 180,41 no Pix."
    assert all("Mariana" in s or "{" not in s for s in out)
    for s in out:
        assert tasks.suggestion_ok(s, "pt", TURNS)
        assert len(s) <= tasks.MAX_SUGGESTION_CHARS


def test_quick_replies_come_first_with_variables_filled():
    qr = [tasks.fill_variables("Oi {nome}! Nosso Pix tem 5% de desconto.", "Mariana Costa")]
    out = tasks.finalize_suggestions([], "pt", "purchase_pricing", TURNS, "Mariana Costa", extra=qr)
    assert out[0] == "Oi Mariana! Nosso Pix tem 5% de desconto."


def test_first_response_times_follow_the_api_definition():
    rows = [
        {"conversation_id": "a", "direction": "in", "kind": "text", "ts": "2026-03-09T23:58:00"},
        {"conversation_id": "a", "direction": "in", "kind": "text", "ts": "2026-03-10T09:05:00"},
        {"conversation_id": "a", "direction": "out", "kind": "text", "ts": "2026-03-10T09:10:00"},
        {"conversation_id": "a", "direction": "out", "kind": "text", "ts": "2026-03-10T09:11:00"},
        {"conversation_id": "a", "direction": "in", "kind": "system", "ts": None},
        {"conversation_id": "a", "direction": "in", "kind": "text", "ts": "2026-03-10T10:00:00"},
        {"conversation_id": "a", "direction": "out", "kind": "text", "ts": "2026-03-10T10:01:00"},
    ]
    for r in rows:
        r["sort_ts"] = r["ts"] or ""
    # The first run started the day before: it belongs to the 10th (its reply), measured from its start.
    day = metrics.window("2026-03-10", "2026-03-10", metrics.ZoneInfo("UTC"))
    assert metrics.first_responses(rows, day) == {"a": [33120.0, 60.0]}
    before = metrics.window("2026-03-09", "2026-03-09", metrics.ZoneInfo("UTC"))
    assert metrics.first_responses(rows, before) == {}
    assert metrics.percentile([1, 2, 3, 4], 50) == 2 and metrics.percentile([], 90) is None

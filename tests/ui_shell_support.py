"""Helpers for the desktop-shell tests: a window on a hosted server in this process, and a local
HTTP server that serves a GGUF (the catalogue may point downloads at http:// on this machine)."""

from __future__ import annotations

import functools
import http.server
import json
import threading
import time
from pathlib import Path

from conftest import free_port


def settings_for(data_dir: Path, **extra):
    from desktop.config import load

    return load({"data_dir": str(data_dir), "port": free_port(), **extra})


class FileServer:
    """Serves one folder over http://127.0.0.1 on a thread (the download test's "internet"),
    at most ``rate`` bytes a second so a progress bar has something to show."""

    def __init__(self, folder: Path, rate: float = 40e6) -> None:
        handler = functools.partial(_QuietHandler, directory=str(folder))
        _QuietHandler.rate = rate
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.port}/{name}"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    rate = 40e6

    def log_message(self, *args) -> None:
        pass

    def copyfile(self, source, outputfile) -> None:
        chunk = 1 << 20
        while block := source.read(chunk):
            outputfile.write(block)
            time.sleep(len(block) / self.rate)


def local_catalogue(dest: Path, model_file: Path, url: str, model_id: str = "Local-Default.Q4_1") -> Path:
    """A catalogue whose default model downloads from ``url`` (same bytes as ``model_file``)."""
    from llm import catalog

    default_id, entries = catalog.load_catalog()
    base = next(e for e in entries if e.id == default_id)
    data = {
        "default": model_id,
        "models": [{
            "id": model_id, "file": f"{model_id}.gguf", "name": "Local default (test)", "architecture": "llama",
            "licence": base.licence, "size": model_file.stat().st_size, "sha256": base.sha256,
            "source": {"kind": "url", "url": url}, "min_ram_gb": 2, "notes": "served by the test",
        }],
    }
    dest.write_text(json.dumps(data), "utf-8")
    return dest

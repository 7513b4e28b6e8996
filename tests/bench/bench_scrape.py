"""Scraping benchmark: the real extension in real headless Chromium on a 200-message chat.

Run: .venv/bin/python tests/bench/bench_scrape.py [--runs 200] [--warmup 20] [--idle-seconds 30]

Builds the extension (into a temp dir), loads its chromium build in Debian's `chromium` (`--headless=new`, the same
flags as tests/e2e/test_extension_e2e.py), and serves a generated 200-message chat
(tests/extension/helpers/chat-generator.mjs) at https://web.whatsapp.com/ by request
interception. Then:

(a) times `readActiveChat(document)` in the page, importing the extension's own scrape.js
    through its chrome-extension:// URL (web-accessible to web.whatsapp.com): median and p95
    over --runs calls after --warmup calls (target: median <= 5 ms, 200 messages returned);
(b) counts the capture POSTs the extension makes while the chat sits idle for --idle-seconds
    after the first capture (target: 0). The extension is pointed (options page) at a small
    stub server on 127.0.0.1 that answers health, pairing and captures, and counts
    POST /api/v1/captures.

Prints both figures plainly. Not a pass/fail test (the exit code is 1 when a target is missed).
"""

from __future__ import annotations

import argparse
import json
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
GENERATOR = ROOT / "tests" / "extension" / "helpers" / "chat-generator.mjs"
EXTENSION_ID = "oehpgcfibfbepophcjgonemoamflplib"  # pinned by the manifest's "key"
TIMEOUT = 60_000  # ms

MEASURE = """
async ([url, warmup, runs]) => {
  const { readActiveChat } = await import(url);
  let out = null;
  for (let i = 0; i < warmup; i += 1) out = readActiveChat(document);
  const times = [];
  for (let i = 0; i < runs; i += 1) {
    const t0 = performance.now();
    out = readActiveChat(document);
    times.push(performance.now() - t0);
  }
  return { times, messages: out ? out.messages.length : -1, title: out?.chat?.title ?? null };
}
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stub:
    """The few endpoints the extension needs; counts capture posts (with their arrival times)."""

    def __init__(self) -> None:
        self.captures: list[float] = []
        self.lock = threading.Lock()
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _answer(self, status: int, body: dict | None) -> None:
                raw = json.dumps(body).encode() if body is not None else b""
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def _body(self) -> dict:
                n = int(self.headers.get("Content-Length") or 0)
                try:
                    return json.loads(self.rfile.read(n) or b"{}")
                except ValueError:
                    return {}

            def do_GET(self) -> None:
                path = self.path.split("?")[0]
                if path == "/api/v1/health":
                    self._answer(200, {"api_version": 1, "version": "bench-stub", "model": {"state": "ready"}})
                elif path == "/api/v1/quick-replies":
                    self._answer(200, {"items": []})
                else:
                    self._answer(404, {"error": {"code": "not_found", "message": "not in the stub"}})

            def do_POST(self) -> None:
                path = self.path.split("?")[0]
                body = self._body()
                if path in ("/api/v1/auth/pair", "/api/v1/auth/refresh", "/api/v1/auth/login"):
                    self._answer(200, {
                        "access_token": "stub-access", "refresh_token": "stub-refresh", "expires_in": 3600,
                        "user": {"id": "u1", "username": "bench", "role": "admin"},
                    })
                elif path == "/api/v1/captures":
                    with stub.lock:
                        stub.captures.append(time.monotonic())
                    n = len(body.get("messages") or [])
                    self._answer(202, {"conversation_id": "c1", "new_messages": n, "analysis": "none"})
                else:
                    self._answer(404, {"error": {"code": "not_found", "message": "not in the stub"}})

        self.httpd = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def count(self) -> int:
        with self.lock:
            return len(self.captures)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def build_extension(node: str, dist: Path) -> Path:
    """The extension's own build (scripts/build.mjs), into a temp dir: extension/dist is left alone."""
    script = (
        f"import {{ build }} from {json.dumps((EXTENSION / 'scripts' / 'build.mjs').as_uri())};"
        f"build({{ dist: {json.dumps(str(dist))}, log: () => {{}} }});"
    )
    r = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        sys.exit(f"extension build failed:\n{r.stderr}")
    return dist / "chromium"


def generated_chat(node: str, count: int, out: Path) -> None:
    script = (
        f"import {{ generateChat }} from {json.dumps(GENERATOR.as_uri())};"
        f"process.stdout.write(generateChat({{ count: {count}, lang: 'pt-BR', seed: 7 }}).html);"
    )
    r = subprocess.run([node, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        sys.exit(f"chat generator failed:\n{r.stderr}")
    out.write_text(r.stdout, "utf-8")


def percentile(values: list[float], p: float) -> float:
    s = sorted(values)
    k = (len(s) - 1) * p
    lo = int(k)
    hi = min(lo + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--messages", type=int, default=200)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--idle-seconds", type=float, default=30)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    node = shutil.which("node")
    chromium = shutil.which("chromium")
    if not node or not chromium:
        sys.exit("node and Debian chromium are required")
    ext_url = f"chrome-extension://{EXTENSION_ID}"
    stub = Stub()
    ok = True
    with tempfile.TemporaryDirectory(prefix="conversa-bench-scrape-") as tmp:
        ext = str(build_extension(node, Path(tmp) / "dist"))
        chat_file = Path(tmp) / "chat.html"
        generated_chat(node, args.messages, chat_file)
        html = chat_file.read_text("utf-8")
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                str(Path(tmp) / "profile"),
                executable_path=chromium,
                headless=False,  # the real headless mode comes from --headless=new below
                ignore_default_args=["--disable-extensions"],
                args=[
                    "--headless=new", f"--disable-extensions-except={ext}", f"--load-extension={ext}",
                    "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                    "--disable-component-update", "--disable-sync",
                ],
                viewport={"width": 1400, "height": 900},
            )
            try:
                if not context.service_workers:
                    context.wait_for_event("serviceworker", timeout=TIMEOUT)

                # Point the extension at the stub and pair (the stub takes any code).
                options = context.new_page()
                options.goto(f"{ext_url}/options/options.html")
                options.fill("#server-url", stub.url)
                options.click("#save-server")
                options.wait_for_function(
                    "(url) => document.querySelector('#server-status').textContent.includes(url)",
                    arg=stub.url, timeout=TIMEOUT)
                options.close()
                popup = context.new_page()
                popup.goto(f"{ext_url}/popup/popup.html")
                popup.wait_for_selector("#signed-out:not([hidden])", timeout=TIMEOUT)
                popup.fill("#code", "1234-5678")
                popup.click("#pair")
                popup.wait_for_selector("#signed-in:not([hidden])", timeout=TIMEOUT)
                popup.close()

                def handle(route):
                    if route.request.resource_type == "document":
                        route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
                    else:
                        route.fulfill(status=404, body="")

                context.route("https://web.whatsapp.com/**", handle)
                page = context.new_page()
                page.goto("https://web.whatsapp.com/")

                # (b) first capture, then idle.
                deadline = time.monotonic() + TIMEOUT / 1000
                while stub.count() == 0:
                    if time.monotonic() > deadline:
                        sys.exit("no capture reached the stub server")
                    time.sleep(0.05)
                first_at = stub.captures[0]
                page.wait_for_timeout(args.idle_seconds * 1000)
                # Only posts within the window (a post right at its end still counts if it arrived).
                idle_posts = sum(1 for t in stub.captures[1:] if t - first_at <= args.idle_seconds + 0.5)

                # (a) readActiveChat timing, in the page, from the extension's own module.
                out = page.evaluate(MEASURE, [f"{ext_url}/content/whatsapp/scrape.js", args.warmup, args.runs])
            finally:
                context.close()
    stub.close()

    times = out["times"]
    median = percentile(times, 0.5)
    p95 = percentile(times, 0.95)
    print(f"readActiveChat {out['messages']} messages: median {median:.2f} ms, p95 {p95:.2f} ms ({len(times)} runs)")
    print(f"idle chat: {idle_posts} capture posts in {args.idle_seconds:g} s (after the first)")
    if out["messages"] != args.messages:
        print(f"  MISSED: expected {args.messages} messages")
        ok = False
    if median > 5:
        print("  MISSED: target median <= 5 ms")
        ok = False
    if idle_posts:
        print("  MISSED: target 0 posts while idle")
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())

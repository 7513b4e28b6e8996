"""End to end: the real extension in real Chromium against the real server and model.

Debian `chromium` (headless=new) loads the built, unpacked extension; WhatsApp Web is the
fixture HTML served at https://web.whatsapp.com/ by request interception; the server is
`conversa serve` on a free port with a fresh data dir and the default GGUF. The test pairs
through the popup, sets the server URL through the options page, opens a chat, waits for the
capture, the analysis in the side panel and its three suggestions, inserts one (and checks
nothing was sent), switches chat, and checks that chat text shaped like HTML stays text.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
EXTENSION = ROOT / "extension"
FIXTURES = ROOT / "tests" / "fixtures" / "whatsapp"
ARTIFACTS = ROOT / "tests" / "artifacts"
EXTENSION_ID = "oehpgcfibfbepophcjgonemoamflplib"  # pinned by the manifest's "key"
PASSPHRASE = "e2e-passphrase-only"
USER, PASSWORD = "ana", "password-e2e-123"
XSS = "<img src=x onerror=alert(1)>"
ANALYSIS_TIMEOUT = 300_000  # ms: the real model on two cores takes ~1–2 min per analysis
SHORT = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Api:
    """A tiny HTTP client for checks from the test's side (its own login token)."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}/api/v1"
        self.token: str | None = None

    def call(self, method: str, path: str, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", f"Bearer {self.token}")
        with urllib.request.urlopen(req, timeout=30) as resp:
            raw = resp.read()
            return json.loads(raw) if raw else None

    def login(self) -> None:
        out = self.call("POST", "/auth/login", {"username": USER, "password": PASSWORD, "device": "e2e-test"})
        self.token = out["access_token"]

    def conversation_titled(self, title: str):
        for item in self.call("GET", "/conversations")["items"]:
            if item["title"] == title:
                return item
        return None


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_file):
    """`conversa serve` on a free port: real SQLite in a temp data dir, the default model."""
    data = tmp_path_factory.mktemp("conversa-e2e")
    (data / "models").mkdir()
    os.symlink(model_file, data / "models" / Path(model_file).name)
    env = dict(os.environ, CONVERSA_DATA_DIR=str(data), CONVERSA_PASSPHRASE=PASSPHRASE)
    cli = [sys.executable, "-m", "desktop"]
    r = subprocess.run([*cli, "users", "add", USER, "--role", "admin", "--password-stdin"],
                       input=PASSWORD + "\n", capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    port = _free_port()
    log = open(data / "server.log", "ab")
    proc = subprocess.Popen([*cli, "serve", "--port", str(port)], stdout=log, stderr=subprocess.STDOUT,
                            env=env, start_new_session=True)
    api = Api(port)
    deadline = time.monotonic() + 120
    while True:
        assert proc.poll() is None, (data / "server.log").read_text(errors="replace")[-3000:]
        try:
            if api.call("GET", "/health")["model"]["state"] != "loading":
                break
        except OSError:
            pass
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.2)
    api.login()

    def pair_code() -> str:
        out = subprocess.run([*cli, "pair", "--user", USER], capture_output=True, text=True, env=env, timeout=120)
        assert out.returncode == 0, out.stderr
        return re.search(r"\b\d{4}-\d{4}\b", out.stdout).group(0)

    yield {"port": port, "url": f"http://127.0.0.1:{port}", "api": api, "pair_code": pair_code}
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def built_extension() -> Path:
    """`npm run build` (a node script): the unpacked Chromium build is what gets loaded."""
    node = shutil.which("node")
    assert node, "node is required to build the extension"
    r = subprocess.run([node, "scripts/build.mjs"], cwd=EXTENSION, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    out = EXTENSION / "dist" / "chromium"
    assert (out / "manifest.json").exists()
    return out


@pytest.fixture(scope="module")
def browser(built_extension, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium")
    assert chromium, "Debian chromium is required (apt-get install chromium)"
    ext = str(built_extension)
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("profile")),
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
        worker = context.service_workers[0] if context.service_workers else context.wait_for_event(
            "serviceworker", timeout=SHORT)
        assert worker.url == f"chrome-extension://{EXTENSION_ID}/background/service-worker.js"
        yield context
        context.close()


def fixture_html(name: str) -> str:
    return (FIXTURES / name).read_text("utf-8")


def serve_whatsapp(context, html: str) -> None:
    """Every request to web.whatsapp.com is answered from the fixtures (no network)."""
    def handle(route):
        if route.request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=html)
        else:
            route.fulfill(status=404, body="")
    context.route("https://web.whatsapp.com/**", handle)


# Runs in the page's own world before WhatsApp's markup: records anything send-like and would
# flag any script that chat text managed to run.
PAGE_HOOKS = """
window.__keys = [];
window.__clicks = [];
window.alert = () => { window.__xss = 'alert'; };
document.addEventListener('keydown', (e) => window.__keys.push(e.key), true);
document.addEventListener('keypress', (e) => window.__keys.push(e.key), true);
document.addEventListener('click', (e) => window.__clicks.push(e.target.tagName), true);
document.addEventListener('beforeinput', (e) => {
  if (e.inputType === 'insertParagraph' || e.inputType === 'insertLineBreak') window.__keys.push(e.inputType);
}, true);
"""

# Replaces #main with the second chat, as WhatsApp does on a chat switch, after adding one more
# customer message (text set with textContent, as WhatsApp renders text) shaped like HTML.
# A new customer message in the open chat, as WhatsApp renders one (text set with textContent).
ADD_INCOMING = """
([messageId, text]) => {
  const rows = [...document.querySelectorAll('#main [role="row"]')].filter((r) => r.querySelector('.message-in'));
  const row = rows[rows.length - 1].cloneNode(true);
  row.querySelector('[data-id]').setAttribute('data-id', messageId);
  row.querySelector('span.selectable-text > span').textContent = text;
  const all = document.querySelectorAll('#main [role="row"]');
  all[all.length - 1].after(row);
}
"""

SWITCH_CHAT = """
([html, payload]) => {
  const doc = new DOMParser().parseFromString(html, 'text/html');
  const main = doc.querySelector('#main');
  const source = [...main.querySelectorAll('[data-id]')]
    .find((el) => el.textContent.includes('think about it overnight'));
  const row = source.closest('[role="row"]').cloneNode(true);
  row.querySelector('[data-id]').setAttribute('data-id', 'false_204857361928374@lid_3EB0E2EXSS000000000001');
  row.querySelector('[data-pre-plain-text]')
    .setAttribute('data-pre-plain-text', '[2:05\u202fPM, 3/14/2026] Jordan Miller: ');
  row.querySelector('span.selectable-text > span').textContent = payload;
  const rows = main.querySelectorAll('[role="row"]');
  rows[rows.length - 1].after(row);
  document.querySelector('#main').replaceWith(document.adoptNode(main));
}
"""


def panel_frame(page, timeout: float = SHORT):
    prefix = f"chrome-extension://{EXTENSION_ID}/panel/panel.html"
    deadline = time.monotonic() + timeout / 1000
    while time.monotonic() < deadline:
        for frame in page.frames:
            if frame.url.startswith(prefix):
                return frame
        page.wait_for_timeout(200)
    raise AssertionError("the side panel frame did not appear")


def wait_until(fn, timeout_ms: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout_ms / 1000
    last = None
    while time.monotonic() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


def compose_text(page) -> str:
    return page.evaluate("() => document.querySelector('#main footer [contenteditable=\"true\"]').innerText")


def squash(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def quick_reply_options(cdp) -> list[dict]:
    """The quick-reply menu as assistive technology sees it (role=option in the accessibility
    tree): it lives in the extension's closed shadow root, which page scripts cannot query."""
    out = []
    for node in cdp.send("Accessibility.getFullAXTree")["nodes"]:
        if node.get("ignored") or node.get("role", {}).get("value") != "option":
            continue
        out.append({"name": node.get("name", {}).get("value", ""), "node": node.get("backendDOMNodeId")})
    return out


def click_node(page, cdp, backend_node_id: int) -> None:
    """A real mouse click in the middle of a node's on-screen box."""
    quad = cdp.send("DOM.getBoxModel", {"backendNodeId": backend_node_id})["model"]["border"]
    page.mouse.click(sum(quad[0::2]) / 4, sum(quad[1::2]) / 4)


def test_extension_end_to_end(server, browser):
    context = browser
    ext_url = f"chrome-extension://{EXTENSION_ID}"

    # 1. Options page: UI language pinned to pt_BR (the browser here is en-US).
    options = context.new_page()
    options.goto(f"{ext_url}/options/options.html")
    options.wait_for_selector("html[data-ready]", state="attached", timeout=SHORT)
    options.select_option("#language", "pt_BR")
    options.wait_for_function("() => document.documentElement.lang === 'pt-BR'", timeout=SHORT)
    # A port where nothing listens (the default :8765 may be in use on a dev machine).
    dead = f"http://127.0.0.1:{_free_port()}"
    options.fill("#server-url", dead)
    options.click("#save-server")
    options.wait_for_function(
        "(url) => document.querySelector('#server-status').textContent.includes(url + ' não responde')",
        arg=dead, timeout=SHORT)

    # 2. WhatsApp with the first fixture chat while the extension still points at the default
    #    server URL, where nothing runs: the panel says so, and the capture waits in the queue.
    serve_whatsapp(context, fixture_html("chat_ptbr_1to1.html"))
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.add_init_script(PAGE_HOOKS)
    page.goto("https://web.whatsapp.com/")
    frame = panel_frame(page)
    frame.wait_for_function(
        "() => document.querySelector('#notice-code').textContent === 'conversa serve'"
        " && !document.querySelector('#notice').hidden",
        timeout=SHORT)
    assert "não está rodando" in frame.text_content("#notice-title")
    outgoing_before = page.locator("#main .message-out").count()

    # 3. Options page: point the extension at this test's server.
    options.fill("#server-url", server["url"])
    options.click("#save-server")
    options.wait_for_function(
        "(url) => document.querySelector('#server-status').textContent.includes(url + ' responde')",
        arg=server["url"], timeout=SHORT)
    assert "API 1" in options.text_content("#server-status")
    options.close()
    # Reachable now, but not paired: the panel tells how to pair.
    frame.wait_for_function(
        "() => document.querySelector('#notice-code').textContent === 'conversa pair'", timeout=SHORT)
    assert server["api"].conversation_titled("Mariana Costa") is None

    # 4. Popup page: pair with a one-time code from `conversa pair`.
    popup = context.new_page()
    popup.goto(f"{ext_url}/popup/popup.html")
    popup.wait_for_selector("#signed-out:not([hidden])", timeout=SHORT)
    popup.fill("#code", server["pair_code"]())
    popup.click("#pair")
    popup.wait_for_selector("#signed-in:not([hidden])", timeout=SHORT)
    assert popup.text_content("#who") == USER
    popup.wait_for_selector("#today dt", timeout=SHORT)
    popup.close()

    # 5. The queued capture arrives once paired (checked through the API with the test's own token).
    conv = wait_until(lambda: server["api"].conversation_titled("Mariana Costa"), SHORT, "the capture")
    assert conv["message_count"] == 14
    full = server["api"].call("GET", f"/conversations/{conv['id']}")
    assert full["contact"]["phone"] == "+5511987654321"

    # The panel shows the contact, then sentiment, intent and three suggestions.
    frame.wait_for_function("() => document.querySelector('#contact-name').value === 'Mariana Costa'", timeout=SHORT)
    frame.wait_for_selector("#sentiment .chip[aria-pressed='true']", timeout=ANALYSIS_TIMEOUT)
    frame.wait_for_function("() => document.querySelector('#intent').value !== ''", timeout=SHORT)
    frame.wait_for_function(
        "() => document.querySelectorAll('#suggestions li.suggestion[data-id]').length === 3", timeout=ANALYSIS_TIMEOUT)
    insight = server["api"].call("GET", f"/conversations/{conv['id']}/insights")
    assert insight["state"] == "ready"
    assert frame.get_attribute("#sentiment .chip[aria-pressed='true']", "data-label") == insight["sentiment"]["label"]
    assert frame.input_value("#intent") == insight["intent"]["label"]
    shown = [squash(t) for t in frame.locator("#suggestions li.suggestion .use").all_text_contents()]
    assert shown == [squash(s["text"]) for s in insight["suggestions"]]

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    frame.frame_element().screenshot(path=str(ARTIFACTS / "panel.png"))

    # 6. Clicking a suggestion puts exactly its text in the compose box, and sends nothing.
    assert squash(compose_text(page)) == ""
    chosen = frame.locator("#suggestions li.suggestion .use").first
    text = chosen.text_content()
    chosen.click()
    wait_until(lambda: squash(compose_text(page)) == squash(text), SHORT, "the draft in the compose box", 0.2)
    frame.wait_for_function("() => document.querySelector('#insert-status').textContent !== ''", timeout=SHORT)
    page.wait_for_timeout(1000)
    assert squash(compose_text(page)) == squash(text)
    assert page.locator("#main .message-out").count() == outgoing_before
    keys = page.evaluate("() => window.__keys")
    assert "Enter" not in keys and "insertParagraph" not in keys, keys
    assert page.evaluate("() => window.__clicks") == []

    # 7. Quick replies: an admin creates one through the API; typing "/pix" in the compose box
    #    offers it, and choosing it puts its text, {nome} filled with the contact's first name,
    #    in place of "/pix". Nothing is sent.
    reply = server["api"].call("POST", "/quick-replies", {
        "shortcut": "pix", "text": "Oi {nome}! Nossa chave Pix é o CNPJ.", "intents": ["purchase_pricing"]})
    assert (reply["shortcut"], reply["intents"]) == ("pix", ["purchase_pricing"])
    filled = "Oi Mariana! Nossa chave Pix é o CNPJ."
    cdp = context.new_cdp_session(page)
    box = page.locator("#main footer [contenteditable='true']")
    box.focus()
    page.keyboard.press("Control+A")
    page.keyboard.press("Backspace")  # the draft of step 6 out of the way
    wait_until(lambda: squash(compose_text(page)) == "", SHORT, "an empty compose box", 0.2)
    page.keyboard.type("/pix", delay=60)
    offered = wait_until(lambda: [o for o in quick_reply_options(cdp) if filled in o["name"]], SHORT,
                         "the quick reply to be offered", 0.2)
    assert len(offered) == 1 and offered[0]["name"].startswith("/pix"), offered
    assert squash(compose_text(page)) == "/pix"
    click_node(page, cdp, offered[0]["node"])
    wait_until(lambda: squash(compose_text(page)) == filled, SHORT, "the quick reply in the compose box", 0.2)
    wait_until(lambda: not quick_reply_options(cdp), SHORT, "the menu to close", 0.2)
    page.wait_for_timeout(1000)
    assert squash(compose_text(page)) == filled
    assert page.locator("#main .message-out").count() == outgoing_before
    keys = page.evaluate("() => window.__keys")
    assert "Enter" not in keys and "insertParagraph" not in keys and "insertLineBreak" not in keys, keys
    cdp.detach()

    # 7b. The shop's knowledge: an admin loads the exchange policy; the customer asks about an
    #     exchange; the suggestion that answers from the policy shows where it came from.
    policy = (ROOT / "tests" / "fixtures" / "shop" / "politica_de_trocas.md").read_text("utf-8")
    server["api"].call("POST", "/knowledge", {"title": "Política de trocas", "text": policy})
    page.evaluate(ADD_INCOMING, ["false_5511987654321@c.us_3EB0TROCA0000000000001", "Se não servir eu posso trocar?"])
    wait_until(lambda: server["api"].conversation_titled("Mariana Costa")["message_count"] == 15, SHORT,
               "the capture of the new message")
    frame.wait_for_function(
        "() => [...document.querySelectorAll('#suggestions li.suggestion[data-id] .source')]"
        ".some((n) => n.textContent === 'fonte: Política de trocas')", timeout=ANALYSIS_TIMEOUT)
    insight = server["api"].call("GET", f"/conversations/{conv['id']}/insights")
    cited = [s for s in insight["suggestions"] if any(c["title"] == "Política de trocas" for c in s["citations"])]
    assert any("30 dias" in s["text"] and "Política" not in s["text"] for s in cited), insight["suggestions"]
    rows = frame.locator("#suggestions li.suggestion[data-id]")
    shown = {squash(rows.nth(i).locator(".use").text_content()): rows.nth(i).locator(".source").all_text_contents()
             for i in range(rows.count())}
    for s in insight["suggestions"]:  # the line is under the suggestion that cites, and only there
        assert shown[squash(s["text"])] == (["fonte: Política de trocas"] if s in cited else []), shown
    frame.frame_element().screenshot(path=str(ARTIFACTS / "panel-citation.png"))

    # 8. Switching chat (#main replaced): the panel follows; HTML-shaped chat text stays text.
    page.evaluate(SWITCH_CHAT, [fixture_html("chat_enus_1to1_lid.html"), XSS])
    conv2 = wait_until(lambda: server["api"].conversation_titled("Jordan Miller"), SHORT, "the second capture")
    assert conv2["message_count"] == 10
    full2 = server["api"].call("GET", f"/conversations/{conv2['id']}")
    assert full2["messages"][-1]["text"] == XSS
    frame = panel_frame(page)
    frame.wait_for_function("() => document.querySelector('#contact-name').value === 'Jordan Miller'", timeout=SHORT)
    frame.wait_for_function(
        "(t) => document.querySelector('#last-message').textContent === t", arg=XSS, timeout=SHORT)
    assert frame.locator("#last-message img").count() == 0
    assert frame.locator("img").count() == 0
    frame.wait_for_selector("#sentiment .chip[aria-pressed='true']", timeout=ANALYSIS_TIMEOUT)
    assert page.locator("#main").get_by_text(XSS, exact=True).count() == 1
    assert page.locator("img[src='x']").count() == 0
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__xss") is None
    assert dialogs == []
    frame.frame_element().screenshot(path=str(ARTIFACTS / "panel-switched.png"))

    # 9. The card and the labels are editable: PATCH /contacts/{id}, POST .../labels.
    pressed = frame.get_attribute("#sentiment .chip[aria-pressed='true']", "data-label")
    other = "negative" if pressed != "negative" else "positive"
    corrections_before = server["api"].call("GET", "/health")["adapter"]["corrections"]
    frame.click(f"#sentiment .chip[data-label='{other}']")
    frame.wait_for_selector(f"#sentiment .chip.corrected[data-label='{other}'][aria-pressed='true']", timeout=SHORT)
    wait_until(lambda: server["api"].call("GET", "/health")["adapter"]["corrections"] > corrections_before,
               SHORT, "the label correction")
    frame.select_option("#contact-stage", "proposal")
    frame.fill("#contact-value", "250")
    frame.fill("#contact-tags", "vip, jaqueta")
    frame.click("#contact-form button[type=submit]")
    frame.wait_for_function("() => document.querySelector('#contact-saved').textContent === 'Salvo.'", timeout=SHORT)
    contact = server["api"].call("GET", f"/contacts/{full2['contact']['id']}")
    assert (contact["stage"], contact["value"], sorted(contact["tags"])) == ("proposal", 250, ["jaqueta", "vip"])

    # 10. Hiding the panel is remembered across a reload; the toggle button brings it back.
    frame.click("#hide")
    wait_until(lambda: not panel_frame(page).frame_element().is_visible(), SHORT, "the panel to hide", 0.2)
    page.reload()
    page.wait_for_timeout(2000)
    assert not panel_frame(page).frame_element().is_visible()
    width, height = page.evaluate("() => [document.documentElement.clientWidth, window.innerHeight]")
    page.mouse.click(width - 8, height / 2)  # the toggle tab on the right edge (its shadow root is closed)
    wait_until(lambda: panel_frame(page).frame_element().is_visible(), SHORT, "the panel to show again", 0.2)

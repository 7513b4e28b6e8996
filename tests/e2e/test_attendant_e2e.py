"""End to end, the attendant's day (issue 14): two attendants, each in their own Chromium
profile with the unpacked extension, paired with the real server (`conversa serve`, real
SQLite), on the WhatsApp fixture pages.

Ana transfers Mariana's chat to Bia with a note; Bia's "Fila" shows it with the note and the
wait (and the icon's badge counts it); opening it from the queue says so when the chat is not
in WhatsApp's list, and opens it when it is; Bia resolves it with Alt+R; a new incoming message
captured from the page re-opens it; a follow-up due in 2 s raises a notification (read through
the extension's chrome.notifications) and then shows as due in the queue; stage and value
edits persist and a concurrent edit gets the conflict message; the Histórico lists two periods.
The server runs without a model: nothing here depends on an analysis.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import warnings
from datetime import UTC, datetime

import pytest

from tests.conftest import cli, make_server
from tests.e2e.test_extension_e2e import (
    ADD_INCOMING,
    EXTENSION,
    EXTENSION_ID,
    PAGE_HOOKS,
    fixture_html,
    panel_frame,
    wait_until,
)

pytestmark = pytest.mark.slow

SHORT = 60_000
# wait_for_function polls on a timer: its default (requestAnimationFrame) can stall in a headless
# extension page that is not in front, so a condition already true was never seen (CI, cold browser).
WAIT = {"polling": 250, "timeout": SHORT}
PW = "password-e2e-attendant"
NOTE = "Cliente quer trocar o tamanho — pedido 4521"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = make_server(tmp_path_factory.mktemp("attendant-e2e"), None)
    srv.start(wait_model=False)
    admin = srv.login()["access_token"]
    for name in ("ana", "bia"):
        r = srv.request("POST", "/api/v1/users", {"username": name, "password": PW, "role": "attendant"}, token=admin)
        assert r.status == 201, r.body
    yield srv, admin
    srv.stop()


@pytest.fixture(scope="module")
def built_extension():
    node = shutil.which("node")
    assert node, "node is required to build the extension"
    r = subprocess.run([node, "scripts/build.mjs"], cwd=EXTENSION, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    return EXTENSION / "dist" / "chromium"


class Attendant:
    """One attendant's browser: a persistent Chromium profile with the extension, its worker,
    and WhatsApp Web answered from a fixture page (switchable)."""

    def __init__(self, p, built, profile, name: str):
        chromium = shutil.which("chromium")
        assert chromium, "Debian chromium is required"
        ext = str(built)
        self.name = name
        self.context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=chromium,
            headless=False,
            ignore_default_args=["--disable-extensions"],
            args=[
                "--headless=new",
                f"--disable-extensions-except={ext}",
                f"--load-extension={ext}",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
            viewport={"width": 1400, "height": 900},
        )
        workers = self.context.service_workers
        self.worker = workers[0] if workers else self.context.wait_for_event("serviceworker", timeout=SHORT)
        self.html = ""
        self.context.route("https://web.whatsapp.com/**", self._serve)
        self.page = None

    def _serve(self, route):
        if route.request.resource_type == "document":
            route.fulfill(status=200, content_type="text/html; charset=utf-8", body=self.html)
        else:
            route.fulfill(status=404, body="")

    def pair(self, srv) -> None:
        ext_url = f"chrome-extension://{EXTENSION_ID}"
        options = self.context.new_page()
        options.goto(f"{ext_url}/options/options.html")
        options.wait_for_selector("html[data-ready]", state="attached", timeout=SHORT)
        # On a cold browser the page may still be reading its stored language when the choice is
        # made, and then re-render with the old one: choose again until it holds.
        deadline = time.monotonic() + SHORT / 1000
        while True:
            options.select_option("#language", "pt_BR")
            try:
                options.wait_for_function("() => document.documentElement.lang === 'pt-BR'", polling=250, timeout=5_000)
                break
            except Exception:
                if time.monotonic() > deadline:
                    raise
        url = f"http://127.0.0.1:{srv.port}"
        responds = "(url) => document.querySelector('#server-status').textContent.includes(url + ' responde')"
        for attempt in (1, 2):
            options.fill("#server-url", url)
            options.click("#save-server")
            try:
                options.wait_for_function(responds, arg=url, polling=250, timeout=SHORT // 2)
                break
            except Exception:
                seen = options.evaluate(
                    "() => [document.querySelector('#server-status').textContent,"
                    " document.querySelector('#message').textContent]"
                )
                if attempt == 2:
                    raise AssertionError(f"the options page never said the server responds: {seen}") from None
                # Seen only as the session's first test, in a cold browser: say what the page showed.
                warnings.warn(f"options page, first save: no 'responde' after {SHORT // 2000} s: {seen}", stacklevel=1)
        options.close()
        out = cli(srv.data_dir, "pair", "--user", self.name)
        assert out.returncode == 0, out.stderr
        code = re.search(r"\b\d{4}-\d{4}\b", out.stdout).group(0)
        popup = self.context.new_page()
        popup.goto(f"{ext_url}/popup/popup.html")
        popup.wait_for_selector("#signed-out:not([hidden])", timeout=SHORT)
        popup.fill("#code", code)
        popup.click("#pair")
        popup.wait_for_selector("#signed-in:not([hidden])", timeout=SHORT)
        assert popup.text_content("#who") == self.name
        popup.close()

    def open_whatsapp(self, fixture: str):
        self.html = fixture_html(fixture)
        if self.page is None:
            self.page = self.context.new_page()
            self.page.add_init_script(
                PAGE_HOOKS + "window.__pressed = [];"
                "document.addEventListener('mousedown', (e) => window.__pressed.push("
                "e.target.closest('[role=row]')?.querySelector('span[title]')?.title), true);"
            )
            self.page.goto("https://web.whatsapp.com/")
        else:
            self.page.reload()
        return panel_frame(self.page)

    def close(self):
        self.context.close()


def _api(srv, token, method, path, body=None, headers=None):
    r = srv.request(method, "/api/v1" + path, body, token=token, headers=headers)
    assert r.status < 300, (method, path, r.status, r.body)
    return r


def _conversation(srv, token, title):
    for item in _api(srv, token, "GET", "/conversations").json()["items"]:
        if item["title"] == title:
            return item
    return None


def test_attendants_day(server, built_extension, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    srv, admin = server
    with sync_playwright() as p:
        ana = Attendant(p, built_extension, tmp_path_factory.mktemp("profile-ana"), "ana")
        bia = Attendant(p, built_extension, tmp_path_factory.mktemp("profile-bia"), "bia")
        try:
            _day(srv, admin, ana, bia)
        finally:
            ana.close()
            bia.close()


def _day(srv, admin, ana, bia):
    ana.pair(srv)
    bia.pair(srv)

    # 1. Ana has Mariana's chat open; the capture makes it hers.
    fa = ana.open_whatsapp("chat_ptbr_1to1.html")
    conv = wait_until(lambda: _conversation(srv, admin, "Mariana Costa"), SHORT, "Mariana's capture")
    fa.wait_for_function("() => document.querySelector('#contact-name').value === 'Mariana Costa'", **WAIT)
    fa.wait_for_selector("#status-buttons .status[data-status='open'][aria-pressed='true']", timeout=SHORT)

    # 2. Ana transfers it to Bia with a note (the list of attendants comes from the server).
    fa.click("#transfer-toggle")
    fa.wait_for_selector("#transfer-to option[value]:not([value=''])", state="attached", timeout=SHORT)
    options = fa.locator("#transfer-to option").all_text_contents()
    assert "bia" in options and "ana" not in options, options
    fa.select_option("#transfer-to", label="bia")
    fa.fill("#transfer-note", NOTE)
    fa.click("#transfer-send")
    fa.wait_for_function(
        "() => document.querySelector('#workflow-status').textContent === 'Transferida para bia.'", **WAIT
    )
    users = {u["username"]: u["id"] for u in _api(srv, admin, "GET", "/users").json()["items"]}
    assert _api(srv, admin, "GET", f"/conversations/{conv['id']}").json()["contact"]["owner"] in (None, users["bia"])
    assert _conversation(srv, admin, "Mariana Costa")["owner"] == users["bia"]
    audit = _api(srv, admin, "GET", "/audit?action=conversation.transfer").json()["items"]
    assert audit[0]["target"] == conv["id"] and audit[0]["detail"] == f"to={users['bia']}"

    # 3. Bia, on another chat, opens the "Fila": Mariana with the note and how long she waits.
    fb = bia.open_whatsapp("chat_enus_1to1_lid.html")
    wait_until(lambda: _conversation(srv, admin, "Jordan Miller"), SHORT, "Jordan's capture")
    fb.wait_for_function("() => document.querySelector('#contact-name').value === 'Jordan Miller'", **WAIT)
    fb.click("#tab-queue")
    item = f".queue-item[data-id='{conv['id']}']"
    fb.wait_for_selector(item, timeout=SHORT)
    assert fb.text_content(f"{item} .title") == "Mariana Costa"
    assert fb.text_content(f"{item} .note") == f"Recado: {NOTE}"
    wait_text = fb.text_content(f"{item} .wait")
    assert re.fullmatch(r"\d+ dias?( \d+ h)? \(meta 15 min\)|.+\(meta \d+ (min|h).*\)", wait_text), wait_text
    assert "overdue" in fb.get_attribute(f"{item} .wait", "class")  # months past the SLA: red
    assert fb.text_content("#queue-count") == "1"
    queue = _api(srv, srv.login("bia", PW)["access_token"], "GET", "/queue").json()
    assert [i["conversation_id"] for i in queue["items"]] == [conv["id"]]
    badge = wait_until(lambda: bia.worker.evaluate("() => chrome.action.getBadgeText({})"), SHORT, "the badge")
    assert badge == "1"
    assert ana.worker.evaluate("() => chrome.action.getBadgeText({})") in ("", "0")
    bia.page.screenshot(path=str(EXTENSION.parent / "tests" / "artifacts" / "attendant-queue.png"))
    fb.frame_element().screenshot(path=str(EXTENSION.parent / "tests" / "artifacts" / "panel-queue.png"))

    # Clicking it: Mariana is not in this WhatsApp list, so the panel says so (after searching).
    fb.click(item)
    fb.wait_for_function(
        "() => document.querySelector('#queue-status').textContent.startsWith('Não encontrei')", **WAIT
    )
    assert bia.page.input_value("#side input[role='textbox']") == "Mariana Costa"

    # 4. With Mariana in the list, the queue opens her chat (a press on her row, nothing sent).
    fb = bia.open_whatsapp("chat_ptbr_1to1.html")
    fb.wait_for_function("() => document.querySelector('#contact-name').value === 'Mariana Costa'", **WAIT)
    fb.click("#tab-queue")
    fb.click(item)
    fb.wait_for_function(
        "() => document.querySelector('#queue-status').textContent === '“Mariana Costa” aberta.'", **WAIT
    )
    assert bia.page.evaluate("() => window.__pressed") == ["Mariana Costa"]
    assert bia.page.evaluate("() => window.__clicks") == []
    fb.click("#tab-chat")

    # 5. Alt+R on WhatsApp's page resolves it (the panel carries the shortcut out).
    fb.wait_for_selector("#status-buttons .status[data-status='open'][aria-pressed='true']", timeout=SHORT)
    bia.page.keyboard.press("Alt+r")
    fb.wait_for_selector("#status-buttons .status[data-status='resolved'][aria-pressed='true']", timeout=SHORT)
    assert _api(srv, admin, "GET", f"/conversations/{conv['id']}").json()["status"] == "resolved"
    assert "Enter" not in bia.page.evaluate("() => window.__keys")

    # 6. A new customer message captured from the page re-opens it.
    bia.page.evaluate(
        ADD_INCOMING, ["false_5511987654321@c.us_3EB0REOPEN000000000001", "Oi de novo! Chegou o tamanho errado."]
    )
    wait_until(
        lambda: _api(srv, admin, "GET", f"/conversations/{conv['id']}").json()["status"] == "open", SHORT, "the re-open"
    )
    fb.wait_for_selector("#status-buttons .status[data-status='open'][aria-pressed='true']", timeout=SHORT)

    # 7. "Lembrar" in 2 s with a note: a notification at the time, then due in the queue.
    fb.click("#remind-toggle")
    fb.evaluate("""() => {
      const d = new Date(Date.now() + 2000);
      const pad = (n) => String(n).padStart(2, '0');
      const day = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
      const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
      document.querySelector('#remind-date').value = `${day}T${time}`;
      document.querySelector('#remind-date').dispatchEvent(new Event('input'));
    }""")
    fb.fill("#remind-note", "Confirmar a troca")
    fb.click("#remind-save")
    fb.wait_for_function(
        "() => document.querySelector('#workflow-status').textContent.startsWith('Lembrete para')", **WAIT
    )
    created = datetime.now(UTC)
    shown = wait_until(
        lambda: bia.worker.evaluate("() => chrome.notifications.getAll()"), 30_000, "the follow-up notification", 0.2
    )
    assert (datetime.now(UTC) - created).total_seconds() < 20
    (fid,) = [k for k in shown if k.startswith("followup:")]
    due = _api(srv, srv.login("bia", PW)["access_token"], "GET", "/followups?due=true").json()["items"]
    assert [f"followup:{f['id']}" for f in due] == [fid] and due[0]["note"] == "Confirmar a troca"
    fb.click("#tab-queue")
    fb.click("#queue-refresh")
    fb.wait_for_function(
        "(sel) => (document.querySelector(sel + ' .fu') || {}).textContent?.includes('Confirmar a troca')",
        arg=item,
        **WAIT,
    )
    fb.click("#tab-chat")
    # Done from the panel: no longer due, gone from the queue's line.
    fb.wait_for_selector(f"#followups li.due[data-id='{fid.split(':', 1)[1]}']", timeout=SHORT)
    fb.click(f"#followups li[data-id='{fid.split(':', 1)[1]}'] button:text('Feito')")
    wait_until(
        lambda: not _api(srv, srv.login("bia", PW)["access_token"], "GET", "/followups?due=true").json()["items"],
        SHORT,
        "the follow-up done",
    )
    fb.wait_for_function("() => !document.querySelector('#followups li')", **WAIT)

    # 8. Stage and value edited in place persist; a concurrent edit gets the conflict message.
    contact_id = _api(srv, admin, "GET", f"/conversations/{conv['id']}").json()["contact"]["id"]
    fb.select_option("#contact-stage", "proposal")
    fb.fill("#contact-value", "1.234,50")
    fb.click("#contact-form button[type=submit]")
    fb.wait_for_function("() => document.querySelector('#contact-saved').textContent === 'Salvo.'", **WAIT)
    card = _api(srv, admin, "GET", f"/contacts/{contact_id}").json()
    assert (card["stage"], card["value"]) == ("proposal", 1234.5)
    assert fb.input_value("#contact-value") == "1.234,50"
    # Ana (now an admin's change stands in for another attendant) edits the card meanwhile.
    _api(srv, admin, "PATCH", f"/contacts/{contact_id}", {"notes": "alterado por outra pessoa"})
    fb.fill("#contact-value", "999")
    fb.click("#contact-form button[type=submit]")
    fb.wait_for_selector("#contact-conflict:not([hidden])", timeout=SHORT)
    assert fb.text_content("#contact-saved") == "Conflito: não foi salvo."
    card = _api(srv, admin, "GET", f"/contacts/{contact_id}").json()
    assert (card["value"], card["notes"]) == (1234.5, "alterado por outra pessoa")
    fb.click("#contact-reload")
    fb.wait_for_function(
        "() => document.querySelector('#contact-notes').value === 'alterado por outra pessoa'", **WAIT
    )
    assert fb.is_hidden("#contact-conflict")

    fb.evaluate("() => window.scrollTo(0, 0)")
    fb.frame_element().screenshot(path=str(EXTENSION.parent / "tests" / "artifacts" / "panel-chat-workflow.png"))

    # 9. Histórico: two periods (before the resolution, and since the re-open), newest first.
    fb.click("#tab-history")
    fb.wait_for_function("() => document.querySelectorAll('#history-list li.period').length === 2", **WAIT)
    assert fb.locator("#history-list li.period").first.get_attribute("class") == "period open"
    assert fb.text_content("#history-status") == "2 períodos de conversa"
    fb.frame_element().screenshot(path=str(EXTENSION.parent / "tests" / "artifacts" / "panel-history.png"))

    # The shortcuts are listed in the panel's help.
    fb.click("#tab-help")
    keys = fb.locator("#help-keys dt").all_text_contents()
    assert keys == ["Alt+1", "Alt+2", "Alt+3", "Alt+R", "Alt+F"]
    time.sleep(0.2)

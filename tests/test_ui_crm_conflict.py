"""The contact card's optimistic locking, with and without server ETags: a stand-in HTTP server
(stdlib) answers like the API does once `GET /contacts/{id}` sends an ETag and a stale `If-Match`
gets 412 — the real server test (tests/test_ui_crm.py) runs the same path when the server has it.
A fast check of the window's side: the If-Match it sends and the conflict it shows."""

from __future__ import annotations

import json
import threading
import tkinter as tk
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from ui_support import display, pump  # noqa: F401 - display is a fixture

from desktop.ui.api_client import ApiClient
from desktop.ui.bridge import Bridge
from desktop.ui.i18n import Strings
from desktop.ui.tabs import TabContext
from desktop.ui.tabs import contacts as contacts_tab


class Api:
    def __init__(self, etags: bool) -> None:
        self.etags = etags
        self.version = 1
        self.contact = {"id": "k1", "name": "Beatriz Ramos", "phone": "+5511977771010", "stage": "lead",
                        "value": 100.0, "tags": [], "notes": "", "owner": None, "external_id": "101"}
        self.if_match: list[str | None] = []


def _server(api: Api) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def _send(self, status: int, body: object, etag: bool = False) -> None:
            raw = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(raw)))
            if etag and api.etags:
                self.send_header("ETag", f'"v{api.version}"')
            self.end_headers()
            self.wfile.write(raw)

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            path = self.path.split("?")[0]
            if path == "/api/v1/contacts":
                self._send(200, {"items": [api.contact]})
            elif path == "/api/v1/contacts/k1":
                self._send(200, api.contact, etag=True)
            elif path == "/api/v1/users":
                self._send(200, {"items": [{"id": "u1", "username": "admin", "role": "admin", "disabled": False}]})
            else:
                self._send(404, {"error": {"code": "not_found", "message": "no such route"}})

        def do_PATCH(self) -> None:  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            match = self.headers.get("If-Match")
            api.if_match.append(match)
            if api.etags and match is not None and match != f'"v{api.version}"':
                self._send(412, {"error": {"code": "precondition_failed", "message": "contact changed"}})
                return
            api.contact.update(body)
            api.version += 1
            self._send(200, api.contact, etag=True)

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


@pytest.mark.parametrize("etags", [True, False])
def test_a_stale_edit_is_shown_as_a_conflict_never_overwritten(display, etags):  # noqa: F811
    api = Api(etags)
    srv = _server(api)
    root = tk.Tk()
    bridge = Bridge()
    try:
        client = ApiClient(f"http://127.0.0.1:{srv.server_address[1]}/api/v1")
        client.access_token, client.user = "token", {"id": "u1", "username": "admin", "role": "admin"}
        view = contacts_tab.View(root, TabContext(client=client, bridge=bridge, t=Strings("pt_BR")))
        view.pack(fill="both", expand=True)

        def settle(until) -> None:
            pump(root, lambda: until() and not view.busy.active, 20, bridge)

        view.open_item(contact_id="k1")  # before the list: opened once it arrives
        settle(lambda: view.current is not None)
        assert view.etag == ('"v1"' if etags else None)
        assert view.health == {}  # /metrics answered 404: the table works without health

        # Someone else saves first.
        api.contact = {**api.contact, "notes": "mudado por outra pessoa"}
        api.version += 1
        view.value_var.set("250,00")
        view.save_button.invoke()
        if etags:
            settle(lambda: "Outra pessoa" in view.detail_message.cget("text"))
            assert api.contact["value"] == 100.0  # not overwritten
            assert view.notes.get("1.0", "end").strip() == "mudado por outra pessoa"  # theirs is shown
            assert view.etag == '"v2"'
            view.value_var.set("250,00")
            view.save_button.invoke()
        settle(lambda: "salvo" in view.detail_message.cget("text"))
        assert api.contact["value"] == 250.0
        assert api.if_match == (['"v1"', '"v2"'] if etags else [None])
    finally:
        bridge.close()
        root.destroy()
        srv.shutdown()


def test_an_attendant_is_not_offered_the_admin_actions(display):  # noqa: F811
    api = Api(etags=False)
    srv = _server(api)
    root = tk.Tk()
    bridge = Bridge()
    try:
        client = ApiClient(f"http://127.0.0.1:{srv.server_address[1]}/api/v1")
        client.access_token, client.user = "token", {"id": "u2", "username": "ana", "role": "attendant"}
        view = contacts_tab.View(root, TabContext(client=client, bridge=bridge, t=Strings("pt_BR")))
        view.pack(fill="both", expand=True)
        view.open_item(contact_id="k1")
        pump(root, lambda: view.current is not None and not view.busy.active, 20, bridge)
        for widget in (view.import_button, view.export_button, view.export_one_button, view.erase_button,
                       view.owner_box):
            assert str(widget.cget("state")) == "disabled", widget
        assert str(view.save_button.cget("state")) == "normal"  # stage, value, tags, notes stay editable
    finally:
        bridge.close()
        root.destroy()
        srv.shutdown()

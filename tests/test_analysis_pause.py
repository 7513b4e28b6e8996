"""Pause/resume analysis (`GET/PUT /api/v1/analysis`): the tray's switch. While paused, a capture
is stored and its analysis answers `unavailable` (code `analysis_paused`); resuming queues again."""

from __future__ import annotations

import copy

from conftest import cli, fixture_capture


def test_pause_stores_captures_without_analysis_then_resume(server):
    token = server.login()["access_token"]
    assert server.request("GET", "/api/v1/analysis", token=token).json() == {"paused": False}

    r = server.request("PUT", "/api/v1/analysis", {"paused": True}, token=token)
    assert r.status == 200 and r.json() == {"paused": True}
    cap = fixture_capture()
    r = server.request("POST", "/api/v1/captures", cap, token=token)
    assert r.status == 202, r.body
    out = r.json()
    assert out["new_messages"] > 0 and out["analysis"] == "unavailable"
    ins = server.request("GET", f"/api/v1/conversations/{out['conversation_id']}/insights", token=token).json()
    assert ins["state"] == "unavailable" and ins["error"]["code"] == "analysis_paused"

    r = server.request("PUT", "/api/v1/analysis", {"paused": False}, token=token)
    assert r.json() == {"paused": False}
    cap2 = copy.deepcopy(cap)
    extra = dict(cap2["messages"][-1], id="false_x_PAUSETEST1", direction="in", text="Ainda tem disponível?")
    cap2["messages"].append(extra)
    r = server.request("POST", "/api/v1/captures", cap2, token=token)
    assert r.json()["analysis"] == "queued"

    audit = server.request("GET", "/api/v1/audit", token=token, headers={}).json()
    actions = [row["action"] for row in audit["items"]]
    assert "analysis.pause" in actions and "analysis.resume" in actions


def test_pause_is_for_admins_and_checks_its_body(server):
    token = server.login()["access_token"]
    r = server.request("PUT", "/api/v1/analysis", {"paused": "yes"}, token=token)
    assert r.status == 400 and r.json()["error"]["field"] == "paused"
    assert cli(server.data_dir, "users", "add", "ana", "--role", "attendant", "--password-stdin",
               stdin="ana-password-1\n").returncode == 0
    att = server.login("ana", "ana-password-1")["access_token"]
    assert server.request("PUT", "/api/v1/analysis", {"paused": True}, token=att).status == 403
    assert server.request("GET", "/api/v1/analysis", token=att).status == 403

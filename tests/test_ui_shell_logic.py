"""The shell's presentation logic without Tk: status texts, job progress, password strength and
first-run checks, model/team/settings/audit rows, the pairing countdown, the tray menu, the
session file's mode, the single-window handshake, and the catalogues' keys in both languages."""

from __future__ import annotations

import json
import os
import stat
import threading
from pathlib import Path

import pytest

from desktop.ui import session_file
from desktop.ui.i18n import Strings, catalogue
from desktop.ui.job_bar import job_progress
from desktop.ui.pairing_view import countdown, spaced
from desktop.ui.single_instance import Beacon, ask_running_to_show
from desktop.ui.status import StatusModel
from desktop.ui.tabs import audit, models, settings, team
from desktop.ui.tabs.first_run import normalise_server_url, password_strength, setup_problems
from desktop.ui.tray import Tray, TrayActions, TrayState

PT, EN = Strings("pt_BR"), Strings("en")


def test_status_texts_follow_the_probe():
    s = StatusModel()
    assert s.texts(PT)["server"] == "Iniciando o servidor…"
    s.update({"health": {"model": {"id": "SmolLM2", "state": "loading"}}, "analysis": {"paused": False},
              "jobs": {"items": [{"state": "running"}, {"state": "done"}, {"state": "queued"}]}})
    assert s.texts(PT) == {"server": "● Servidor no ar", "model": "Modelo SmolLM2: carregando…",
                           "jobs": "Tarefas em andamento: 2"}
    s.update({"health": {"model": {"id": "X", "state": "unavailable", "error": {"message": "m" * 80}}}})
    assert s.texts(EN)["model"].startswith("Model X: unavailable (mmm") and s.texts(EN)["model"].endswith("…)")
    s.paused = True
    s.model_state = "ready"
    assert s.texts(PT)["model"] == "Modelo X: análise pausada"
    s.down()
    assert s.texts(PT) == {"server": "● Servidor fora do ar", "model": "", "jobs": ""}


def test_job_progress_lines():
    assert job_progress({"state": "running", "done": 50 << 20, "total": 100 << 20, "message": "downloading"}, PT) == (
        50.0, "downloading: 52.4 de 104.9 MB")
    assert job_progress({"state": "running", "done": 3, "total": 4, "message": "x"}, EN) == (75.0, "x: 75 %")
    assert job_progress({"state": "running", "done": 0, "total": 0, "message": "y"}, EN)[0] is None
    assert job_progress({"state": "done", "done": 1, "total": 1, "message": ""}, PT) == (100.0, "Concluído.")
    assert job_progress({"state": "failed", "message": "no space"}, PT)[1] == "Falhou: no space"
    assert job_progress({"state": "cancelled", "message": "cancelled"}, EN)[1] == "Cancelled."


def test_password_strength_and_first_step_checks():
    assert password_strength("curta") == 0
    assert password_strength("aaaaaaaaaaaa") == 1  # long but one letter
    assert password_strength("12345678") == 1
    assert password_strength("loja-boa-2026") == 3
    assert password_strength("Loja-Boa-Vista-2026!") == 4
    assert setup_problems("admin", "x" * 9, "x" * 9, "keyfile", "", "") == []
    assert setup_problems(" ", "short", "short", "keyfile", "", "") == ["first.err_username",
                                                                        "first.err_password_short"]
    assert setup_problems("a", "x" * 9, "y" * 9, "passphrase", "p" * 9, "q" * 9) == [
        "first.err_password_repeat", "first.err_passphrase_repeat"]
    assert normalise_server_url("conversa.loja.com.br/") == "https://conversa.loja.com.br/api/v1"
    assert normalise_server_url("http://10.0.0.5:8765/api/v1") == "http://10.0.0.5:8765/api/v1"


def test_model_rows_and_test_summary():
    data = {"items": [
        {"id": "a", "name": "A", "present": True, "active": True, "size": 98_362_432,
         "metadata": {"architecture": "llama", "parameters": 134_515_008, "quantization": "Q4_1",
                      "context_length": 8192}, "memory": {"fits": True}},
        {"id": "b", "name": "B", "present": False, "size": 1_900_000_000, "metadata": None,
         "memory": {"fits": False}},
        {"id": "c", "present": True, "error": "truncated", "size": 68},
    ]}
    rows = dict(models.model_rows(data, PT))
    assert rows["a"] == ("A", "llama", "135 M", "Q4_1", "8192", "98 MB", "sim", "● ativo")
    assert rows["b"][5:] == ("1.90 GB", "não (memória)", "não baixado")
    assert rows["c"][0] == "c" and rows["c"][7] == "com defeito: truncated"
    out = models.test_summary({"model": "a", "generation_tokens_per_s": 41.27, "prompt_tokens_per_s": 350.2,
                               "seconds": 2.1}, EN)
    assert out == "a: 41.3 tokens/s generating, 350 tokens/s reading the prompt (2.1 s in all)"
    assert models.engine_changes({"n_ctx": "4096", "n_threads": "0", "temperature": "0,4"},
                                 {"n_ctx": 2048, "n_threads": 0, "temperature": 0.7}) == {"n_ctx": 4096,
                                                                                           "temperature": 0.4}
    with pytest.raises(ValueError, match="n_ctx"):
        models.engine_changes({"n_ctx": "muito"}, {})


def test_team_rows_and_intents():
    users = team.user_rows({"items": [{"id": "u1", "username": "ana", "role": "attendant", "disabled": True}]}, PT)
    assert users == [("u1", ("ana", "Atendente", "desativado"))]
    devs = team.device_rows({"items": [{"id": "d", "username": "ana", "name": "Chrome", "active": False,
                                        "paired_at": "2026-03-10T09:14:00-03:00", "last_seen": None}]}, PT, "pt_BR")
    assert devs == [("d", ("ana", "Chrome", "10/03/2026 09:14", "—", "revogado"))]
    assert team.parse_intents("complaint; order_status ,") == ["complaint", "order_status"]
    with pytest.raises(ValueError, match="refund"):
        team.parse_intents("refund")
    assert team.reply_rows({"items": [{"id": "r", "shortcut": "pix", "text": "a\nb", "intents": []}]}) == [
        ("r", ("pix", "a b", ""))]


def test_settings_and_audit_rows():
    data = {"items": [
        {"name": "port", "type": "int", "value": 8765, "default": 8765, "restart": True, "secret": False},
        {"name": "passphrase", "type": "str", "value": None, "default": None, "restart": True, "secret": True},
        {"name": "temperature", "type": "float", "value": 0.7, "default": 0.7, "restart": False, "secret": False},
    ]}
    rows = dict(settings.setting_rows(data, PT))
    assert rows["port"] == ("port", "8765", "8765", "após reiniciar")
    assert rows["passphrase"][1] == "(segredo, oculto)" and rows["temperature"][3] == "na hora"
    assert settings.parse_value("float", "0,3") == 0.3 and settings.parse_value("int", " 9 ") == 9
    with pytest.raises(ValueError):
        settings.parse_value("int", "nove")
    assert settings.change_summary({"applied": ["temperature"], "restart_required": ["port"]}, PT) == (
        "Em vigor agora: temperature. Depois de reiniciar: port.")
    assert audit.parse_day("01/12/2026") == "2026-12-01" and audit.parse_day("2026-12-01") == "2026-12-01"
    with pytest.raises(ValueError):
        audit.parse_day("1 de dezembro")
    assert audit.audit_query("01/12/2026", "", " ana ", "user.") == {"from": "2026-12-01", "actor": "ana",
                                                                    "action": "user.", "limit": "100"}
    rows = audit.audit_rows({"items": [{"id": 7, "at": "2026-12-01T10:20:30-03:00", "username": "admin",
                                        "action": "user.create", "target": "u2", "detail": None}]}, "pt_BR")
    assert rows == [("7", ("01/12/2026 10:20:30", "admin", "—", "user.create", "u2", ""))]


def test_pairing_countdown():
    assert countdown(300) == "5:00" and countdown(299.2) == "5:00" and countdown(61) == "1:01"
    assert countdown(-3) == "0:00"
    assert spaced("1234-5678") == "1234 5678"


def test_tray_menu_follows_the_state():
    calls = []
    state = TrayState(server="● Servidor no ar", model="Modelo X: pronto",
                      labels={k: PT(f"tray.{k}") for k in ("open", "pause", "resume", "quit")})
    tray = Tray(TrayActions(lambda: calls.append("open"), lambda: calls.append("pause"),
                            lambda: calls.append("quit")), state)
    labels = [label for label, _ in tray.menu_items()]
    assert labels == ["Abrir o Conversa", "● Servidor no ar", "Modelo X: pronto", "Pausar análise", "Sair"]
    state.paused = True
    assert tray.menu_items()[3][0] == "Retomar análise"
    assert tray.menu_items()[1][1] is None  # state rows do nothing
    for i in (0, 3, 4):
        tray._run(i)
    assert calls == ["open", "pause", "quit"]


def test_session_file_is_private(tmp_path: Path):
    session_file.save(tmp_path, refresh_token="r1", token_url="http://x")
    session_file.save(tmp_path, server_url="https://s/api/v1")
    assert session_file.load(tmp_path) == {"refresh_token": "r1", "token_url": "http://x",
                                           "server_url": "https://s/api/v1"}
    assert stat.S_IMODE(os.stat(tmp_path / session_file.FILE).st_mode) == 0o600
    session_file.save(tmp_path, refresh_token=None)
    assert "refresh_token" not in session_file.load(tmp_path)


def test_single_window_handshake(tmp_path: Path):
    assert not ask_running_to_show(tmp_path)  # nobody runs
    shown = threading.Event()
    beacon = Beacon(tmp_path, shown.set).start()
    try:
        assert stat.S_IMODE(os.stat(tmp_path / "window.json").st_mode) == 0o600
        assert ask_running_to_show(tmp_path) and shown.wait(5)
        info = json.loads((tmp_path / "window.json").read_text())
        (tmp_path / "window.json").write_text(json.dumps({**info, "token": "0" * 32}))
        shown.clear()
        assert not ask_running_to_show(tmp_path)  # a wrong token is not obeyed
        assert not shown.is_set()
        (tmp_path / "window.json").write_text(json.dumps(info))
    finally:
        beacon.close()
    assert not (tmp_path / "window.json").exists()
    assert not ask_running_to_show(tmp_path)


@pytest.mark.parametrize("area", ["shell", "first_run", "models", "team", "settings", "audit"])
def test_catalogues_have_the_same_keys(area: str):
    root = Path(__file__).resolve().parent.parent / "desktop" / "ui" / "strings"
    pt = json.loads((root / "pt_BR" / f"{area}.json").read_text("utf-8"))
    en = json.loads((root / "en" / f"{area}.json").read_text("utf-8"))
    assert set(pt) == set(en)
    assert catalogue("pt_BR")["tray.quit"] == "Sair"


def test_tray_stop_never_blocks_the_caller_on_a_stuck_icon(monkeypatch):
    """pystray's X11 stop() can wait forever for its own loop (seen in CI on quitting from the
    tray menu): quitting must go on after STOP_WAIT_S."""
    import threading
    import time

    from desktop.ui import tray as tray_mod

    monkeypatch.setattr(tray_mod, "STOP_WAIT_S", 0.2)
    release, stopped = threading.Event(), []

    class StuckIcon:
        def stop(self):
            release.wait(10)
            stopped.append(True)

    tray = Tray(TrayActions(lambda: None, lambda: None, lambda: None), TrayState())
    tray.icon = StuckIcon()
    t0 = time.monotonic()
    tray.stop()
    assert time.monotonic() - t0 < 2
    assert tray.icon is None
    release.set()  # the stuck stop ends on its own thread, not the caller's

    class Icon:
        def stop(self):
            stopped.append("ok")

    tray.icon = Icon()
    tray.stop()
    assert "ok" in stopped  # a working icon is stopped before stop() returns


def test_tray_is_shown_only_while_its_loop_runs():
    """Closing the window hides it into the tray only while the icon is up: when pystray's X11
    loop has ended (its X connection failed), the icon is gone and closing must quit instead;
    quitting then does not wait for a stop() nothing would answer."""
    import threading
    import time

    tray = Tray(TrayActions(lambda: None, lambda: None, lambda: None), TrayState())
    tray.icon = object()
    assert not tray.shown()  # not up yet
    tray.ready.set()
    assert tray.shown()  # a backend without a loop of ours (Windows, macOS, AppIndicator)
    stop = threading.Event()
    tray._loop = threading.Thread(target=stop.wait, daemon=True)
    tray._loop.start()
    assert tray.shown()
    undocked = type("Icon", (), {"_systray_manager": None})()
    tray.icon = undocked  # X11: its tray host went away and it could not dock again
    assert not tray.shown()
    tray.icon = object()
    stop.set()
    tray._loop.join(5)
    assert not tray.shown()

    class Icon:
        def stop(self):
            raise AssertionError("nothing answers pystray's stop() once its loop has ended")

    tray.icon = Icon()
    t0 = time.monotonic()
    tray.stop()
    assert time.monotonic() - t0 < 0.5 and tray.icon is None
    assert not tray.shown()

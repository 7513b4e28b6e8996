"""The shell's tabs under Xvfb against a real server process with seeded data: sign-in, Models
(metadata, a Test showing tokens/s, a failed switch that says why while the old model serves),
Team (users, devices, pairing code, quick replies), Settings (help, restart hint, a change),
Audit (filtered); then the reconnect loop when the server goes away and comes back.
A screenshot of each is written under tests/artifacts/."""

from __future__ import annotations

import json
import re
import tkinter as tk

from conftest import make_server, model_file  # noqa: F401 - fixture
from ui_support import display, pump, screenshot  # noqa: F401 - fixture


def shot(root: tk.Tk, name: str) -> None:
    root.update()
    screenshot(name)


def rows(tree) -> list[tuple]:
    return [tuple(tree.item(i, "values")) for i in tree.get_children()]


def test_tabs_with_seeded_data(display, tmp_path, model_file, monkeypatch):  # noqa: F811
    from desktop.config import load
    from desktop.ui import pages
    from desktop.ui.window import Window

    srv = make_server(tmp_path / "srv", model_file)
    (srv.data_dir / "models" / "Broken.gguf").write_bytes(b"GGUF" + b"\0" * 64)  # a file that cannot load
    srv.start()
    try:
        token = srv.login()["access_token"]
        assert srv.request("POST", "/api/v1/users", {"username": "ana", "password": "ana-password-1",
                                                       "role": "attendant"}, token=token).status == 201
        srv.login("ana", "ana-password-1")  # ana's browser: a device with a last-seen time
        assert srv.request("POST", "/api/v1/quick-replies", {"shortcut": "/pix", "text": "Oi {nome}, a chave Pix é…",
                                                               "intents": ["purchase_pricing"]},
                           token=token).status == 201

        monkeypatch.setenv("CONVERSA_LANG", "pt_BR")
        ui_dir = tmp_path / "ui"
        ui_dir.mkdir()
        (ui_dir / "desktop.json").write_text(json.dumps({"server_url": f"http://{srv.host}/api/v1"}))
        settings = load({"data_dir": str(ui_dir)})
        root = tk.Tk()
        w = Window(root, settings, None)
        try:
            w.start()
            pump(root, lambda: isinstance(w.page, pages.SignIn), bridge=w.bridge)
            w.page.username.insert(0, "admin")
            w.page.password.insert(0, "wrong-password")
            w.page.submit()
            pump(root, lambda: w.page.error.cget("text") != "", bridge=w.bridge)
            shot(root, "signin_error")
            w.page.password.delete(0, "end")
            w.page.password.insert(0, "admin-password-1")
            w.page.submit()
            pump(root, lambda: w.notebook is not None, bridge=w.bridge)
            for name in ("models", "team", "settings", "audit"):
                assert name in w.views

            # -- Models: metadata, Test → tokens/s, a failed switch keeps the old model ----------
            w.navigate("models")
            models = w.views["models"]
            pump(root, lambda: len(rows(models.tree)) >= 2, bridge=w.bridge)
            table = {r[0]: r for r in rows(models.tree)}
            smol = next(r for name, r in table.items() if name.startswith("SmolLM2"))
            assert smol[1] == "llama" and smol[3] != "—" and smol[5].endswith("MB") and "ativo" in smol[7]
            assert smol[6] in ("sim", "não (memória)")
            active_id = next(m["id"] for m in models.data["items"] if m.get("active"))
            models.tree.selection_set(active_id)
            root.update()
            models.test_button.invoke()
            pump(root, lambda: "tokens/s" in models.test_result.cget("text"), timeout=600, bridge=w.bridge)
            assert re.search(r"\d+\.\d tokens/s na geração", models.test_result.cget("text"))
            shot(root, "tab_models")

            models.tree.selection_set("Broken")
            root.update()
            models.activate_button.invoke()
            pump(root, lambda: "Não foi possível ativar" in models.message.cget("text"), timeout=120,
                 bridge=w.bridge)
            assert "continua atendendo" in models.message.cget("text")
            health = srv.request("GET", "/api/v1/health").json()
            assert health["model"]["id"] == active_id and health["model"]["state"] == "ready"
            shot(root, "tab_models_failed_switch")

            # Import a GGUF by its path on the server's machine: copied, checked, listed.
            src = tmp_path / "Imported-Copy.gguf"
            src.write_bytes(model_file.read_bytes())
            models.import_path.insert(0, str(src))
            models.import_file()
            pump(root, lambda: models.tree.exists("Imported-Copy"), timeout=300, bridge=w.bridge)
            assert models.job.job["state"] == "done" and (srv.data_dir / "models" / "Imported-Copy.gguf").is_file()
            assert models.tree.item("Imported-Copy", "values")[1] == "llama"

            # -- Team: users, add one, disable; devices; pairing code; quick replies -------------
            w.navigate("team")
            team = w.views["team"]
            pump(root, lambda: len(rows(team.users)) >= 2, bridge=w.bridge)
            assert {r[0] for r in rows(team.users)} == {"admin", "ana"}
            team.new_name.insert(0, "bia")
            team.new_password.insert(0, "bia-password-1")
            team.add_user()
            pump(root, lambda: any(r[0] == "bia" for r in rows(team.users)), bridge=w.bridge)
            bia = next(i for i in team.users.get_children() if team.users.item(i, "values")[0] == "bia")
            team.users.selection_set(bia)
            team.toggle_disabled()
            pump(root, lambda: team.users.exists(bia) and team.users.item(bia, "values")[2] == "desativado",
                 bridge=w.bridge)
            shot(root, "tab_team_users")
            devices = rows(team.devices)
            assert any(d[0] == "ana" and d[4] == "ativo" and d[3] != "—" for d in devices), devices
            team.sections.select(1)
            shot(root, "tab_team_devices")
            ana_device = next(i for i in team.devices.get_children() if team.devices.item(i, "values")[0] == "ana")
            team.devices.selection_set(ana_device)
            team.revoke()
            pump(root, lambda: team.devices.item(ana_device, "values")[4] == "revogado", bridge=w.bridge)
            team.sections.select(2)
            team.pairing.new_code()
            pump(root, lambda: re.fullmatch(r"\d{4} \d{4}", team.pairing.code.cget("text")), bridge=w.bridge)
            assert "Válido por 5:00" in team.pairing.left.cget("text") or "Válido por 4:" in team.pairing.left.cget(
                "text")
            shot(root, "tab_team_pairing")
            team.sections.select(3)
            assert rows(team.replies)[0][0] == "pix"
            team.reply_shortcut.insert(0, "/prazo")
            team.reply_text.insert(0, "Oi {nome}, entregamos em até 3 dias úteis.")
            team.reply_intents.insert(0, "order_status, scheduling")
            team.save_reply(new=True)
            pump(root, lambda: len(rows(team.replies)) == 2, bridge=w.bridge)
            shot(root, "tab_team_replies")
            replies = srv.request("GET", "/api/v1/quick-replies", token=srv.login()["access_token"]).json()["items"]
            assert {r["shortcut"]: r["intents"] for r in replies}["prazo"] == ["order_status", "scheduling"]

            # -- Settings: help, restart hint, a live change ---------------------------------------
            w.navigate("settings")
            st = w.views["settings"]
            pump(root, lambda: st.tree.exists("temperature"), bridge=w.bridge)
            st.tree.selection_set("port")
            root.update()
            assert "reiniciar" in st.hint_text.cget("text") and st.help_text.cget("text")
            st.tree.selection_set("temperature")
            root.update()
            st.value.delete(0, "end")
            st.value.insert(0, "0,3")
            st.save()
            pump(root, lambda: "Em vigor agora: temperature" in st.message.cget("text"), bridge=w.bridge)
            pump(root, lambda: st.tree.item("temperature", "values")[1] == "0.3", bridge=w.bridge)
            shot(root, "tab_settings")

            # -- Audit: everything, then filtered by action prefix -------------------------------
            w.navigate("audit")
            au = w.views["audit"]
            pump(root, lambda: len(rows(au.tree)) >= 4, bridge=w.bridge)
            actions = {r[3] for r in rows(au.tree)}
            assert {"user.create", "settings.update"} <= actions, actions
            au.fields["action"].insert(0, "user.")
            au.refresh()
            pump(root, lambda: rows(au.tree) and all(r[3].startswith("user.") for r in rows(au.tree)),
                 bridge=w.bridge)
            assert any(r[1] == "admin" for r in rows(au.tree))
            shot(root, "tab_audit")

            # -- Pause and resume analysis (the tray's and the menu's item) -----------------------
            token = srv.login()["access_token"]  # the first one may have expired by now
            w.toggle_pause()
            pump(root, lambda: w.status_model.paused is True, bridge=w.bridge)
            assert "análise pausada" in w.status_model_lbl.cget("text") and w.tray_state.paused
            assert srv.request("GET", "/api/v1/analysis", token=token).json() == {"paused": True}
            shot(root, "analysis_paused")
            w.toggle_pause()
            pump(root, lambda: w.status_model.paused is False, bridge=w.bridge)
            assert srv.request("GET", "/api/v1/analysis", token=token).json() == {"paused": False}

            # -- The server goes away: a clear message, then it reconnects by itself -------------
            srv.stop()
            pump(root, lambda: w.banner.winfo_ismapped(), timeout=30, bridge=w.bridge)
            assert "Servidor fora do ar" in w.banner.cget("text")
            assert "fora do ar" in w.status_server.cget("text")
            shot(root, "server_down")
            srv.start()
            pump(root, lambda: not w.banner.winfo_ismapped() and "no ar" in w.status_server.cget("text"),
                 timeout=60, bridge=w.bridge)
            assert w.signed_in
        finally:
            w.quit()
            root.destroy()
    finally:
        srv.stop()

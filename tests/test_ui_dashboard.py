"""The dashboard and reports tabs under Xvfb with a real Tk window, a real server (real model analysing real
captures of two attendants) and the HTTP API only: figures, charts, tables, clicks that open
an attendant or a contact, an attendant's own view, the empty states; a PDF report of a period
(pages to PNG with pdftoppm, text with pdftotext), cancelled, and the weekly report; screenshots
and report pages in tests/artifacts."""

from __future__ import annotations

import gc
import io
import os
import re
import signal
import subprocess
import tkinter as tk
from datetime import date, timedelta

import pytest
from conftest import ADMIN_PASSWORD, make_server
from PIL import Image
from ui_dashboard_data import ATTENDANT_PASSWORD, seed
from ui_support import ARTIFACTS, display, pump, screenshot  # noqa: F401 - the display fixture

from desktop.ui import charts, report_pdf
from desktop.ui.api_client import ApiClient
from desktop.ui.bridge import Bridge
from desktop.ui.i18n import Strings
from desktop.ui.tabs import TabContext
from desktop.ui.tabs.dashboard import View
from desktop.ui.tabs.reports import View as ReportsView


@pytest.fixture(autouse=True)
def _tk_garbage_on_the_main_thread():
    """A closed window's Tk objects are collected here, not later on a worker thread (where Tk refuses)."""
    yield
    gc.collect()


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, model_file):
    # A short suggestion budget: the charts need the labels, not long replies (the machine may be busy).
    srv = make_server(tmp_path_factory.mktemp("dash"), model_file, conversa_timezone="UTC",
                      conversa_max_suggestion_tokens="48", conversa_access_token_minutes="240")
    srv.start()
    try:
        ids = seed(srv, srv.login()["access_token"])
        yield srv, ids
    finally:
        srv.stop()


def client_for(srv, username: str = "admin", password: str = ADMIN_PASSWORD) -> ApiClient:
    client = ApiClient(f"http://{srv.host}/api/v1")
    client.login(username, password)
    return client


class Window:
    """A Tk root holding just the dashboard tab, as the main window would."""

    def __init__(self, client: ApiClient, lang: str = "pt_BR") -> None:
        self.root = tk.Tk()
        self.root.title("Conversa — painel")
        self.root.geometry("1366x800+0+0")
        self.opened: list[tuple[str, dict]] = []
        self.bridge = Bridge()
        self.ctx = TabContext(client=client, bridge=self.bridge, t=Strings(lang),
                              navigate=lambda tab, **kw: self.opened.append((tab, kw)))
        self.view = View(self.root, self.ctx)
        self.view.pack(fill="both", expand=True)

    def load(self) -> None:
        self.view.refresh()
        pump(self.root, lambda: self.view.model is not None and not self.view.busy, 120, self.bridge)
        self.root.update()

    def close(self) -> None:
        self.bridge.close()
        self.bridge._pool.shutdown(wait=True)  # no worker still holds a widget when Tk goes
        gc.collect()
        self.root.destroy()


def _click(card, x_disp: float, y_disp: float) -> tuple[int, int]:
    """A real mouse click on a card's image at a point of its figure (display coordinates: y up,
    Tk's: y down); returns the pixel clicked."""
    x, y = round(x_disp), round(card.image.size[1] - y_disp)
    card.canvas.event_generate("<Motion>", x=x, y=y, warp=True)
    card.canvas.event_generate("<ButtonPress-1>", x=x, y=y)
    card.canvas.event_generate("<ButtonRelease-1>", x=x, y=y)
    return x, y


def _figures(w: Window) -> dict:
    """Each chart drawn again here, with charts.py, from the model and at the size of the image the
    chart process drew for its card; the image shown must be exactly these pixels."""
    out = {}
    for key, card in w.view.cards.items():
        assert card.image is not None and card.fits(), key  # drawn to fill its card, at the screen's dpi
        fig = charts.render(key, w.view.model, w.ctx.t, *card.image.size, card.image.dpi)
        mine = Image.frombuffer("RGBA", card.image.size, fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        assert Image.open(io.BytesIO(card.image.png)).convert("RGB").tobytes() == mine.convert("RGB").tobytes(), key
        out[key] = fig
    return out


@pytest.mark.usefixtures("display")
def test_dashboard_for_the_admin_with_seeded_data(seeded):
    srv, ids = seeded
    w = Window(client_for(srv))
    try:
        w.load()
        v = w.view
        kpi = {k: label.cget("text") for k, label in v.kpis.items()}
        assert kpi["conversations"] == "6" and kpi["messages_in"] == "10"
        # Open stages only (lead, qualified, proposal): 5.200 + 12.000 + 30.000 + 2.000.
        assert kpi["pipeline_value"] == "R$ 49.200"
        # First responses 3, 6, 11, 12, 25, 48 and 90 min: the median (nearest rank) is 12 min.
        assert kpi["first_response_p50"] == "12 min"
        assert v.message.cget("text").startswith("Atualizado:")

        # Every chart drew real axes (no empty state) from the API's figures.
        m = v.model
        assert m.empty.keys() <= {"at_risk"}, m.empty
        assert sum(m.conversations) >= 6 and sum(sum(x) for x in m.sentiment.values()) == 6
        assert sum(b.value for b in m.intents) == 6
        figures = _figures(w)
        dots = [line for line in figures["efficiency"].axes[0].lines if line.get_gid()]
        assert sorted(line.get_gid() for line in dots) == sorted([ids["ana"], ids["bia"]])
        sla_left, sla_right = figures["sla"].axes
        assert {p.get_gid() for p in sla_left.patches} == {ids["ana"], ids["bia"]}
        # What a click opens: the attendants' bars and dots, and nothing else.
        assert sorted(r.ref for r in v.cards["sla"].image.regions) == sorted([ids["ana"], ids["bia"]])
        assert sorted(r.ref for r in v.cards["efficiency"].image.regions) == sorted([ids["ana"], ids["bia"]])
        assert all(not v.cards[k].image.regions for k in ("daily", "sentiment", "intents", "funnel"))
        # No conversation was resolved: the resolution half says so instead of drawing empty axes.
        assert [x.get_text().replace("\n", " ") for x in sla_right.texts] == [w.ctx.t("dash.empty.resolution")]
        funnel = figures["funnel"].axes[0]
        assert [p.get_width() for p in funnel.patches] == [1, 1, 2, 1, 1]

        top = v.top_table
        rows = [top.item(i, "values") for i in top.get_children()]
        assert rows[0] == ("Fábio Lima", "Proposta", "R$ 30.000,00") and len(rows) == 6
        assert top.get_children()[0] == ids["Fábio Lima"]
        risk = [v.risk_table.item(i, "values") for i in v.risk_table.get_children()]
        hugo = [r for r in risk if r[0] == "Hugo Alves"]
        assert hugo and "negócio perdido" in hugo[0][3]  # lost: health capped at 10
        assert v.user_box is not None and "ana" in v.user_box.cget("values")
        screenshot("dashboard")

        # A click on bia's dot (where the figure puts it; the image shows the dot's colour there)
        # opens bia in the Team tab.
        bia = next(line for line in dots if line.get_gid() == ids["bia"])
        card = v.cards["efficiency"]
        x, y = _click(card, *bia.get_transform().transform((bia.get_xdata()[0], bia.get_ydata()[0])))
        assert "#{:02x}{:02x}{:02x}".format(*card._photo.get(x, y)) == bia.get_color()
        pump(w.root, lambda: w.opened, 10)
        assert w.opened[-1] == ("team", {"user_id": ids["bia"]})
        # And a click on ana's first-response bar opens ana.
        ana = next(p for p in sla_left.patches if p.get_gid() == ids["ana"])
        _click(v.cards["sla"], *ana.get_window_extent().get_points().mean(axis=0))
        pump(w.root, lambda: len(w.opened) == 2, 10)
        assert w.opened[-1] == ("team", {"user_id": ids["ana"]})

        # Choosing a row of the top contacts opens that contact.
        top.selection_set(ids["Carla Menezes"])
        pump(w.root, lambda: len(w.opened) == 3, 10)
        assert w.opened[-1] == ("contacts", {"contact_id": ids["Carla Menezes"]})

        # The lower half: tables of top contacts and customers at risk.
        v.scroll.canvas.yview_moveto(1.0)
        w.root.update()
        screenshot("dashboard_tables")

        # A narrower window: once it settles, the charts are drawn again at their cards' new size.
        v.scroll.canvas.yview_moveto(0.0)
        before = v.cards["daily"].image.size
        w.root.geometry("1100x800+0+0")
        pump(w.root, lambda: all(c.fits() for c in v.cards.values())
             and v.cards["daily"].image.size != before and not v._redrawing, 60, w.bridge)
        assert v.cards["daily"].image.size[0] < before[0]
        _figures(w)
        w.root.geometry("1366x800+0+0")

        # One attendant, picked by the admin: the API's per-attendant numbers.
        v.set_user(ids["ana"])
        w.load()
        assert v.kpis["conversations"].cget("text") == "3"
        assert [b.ref for b in v.model.first_response] == [ids["ana"]]
    finally:
        w.close()


@pytest.mark.usefixtures("display")
def test_an_attendant_sees_only_their_own_numbers(seeded):
    srv, ids = seeded
    w = Window(client_for(srv, "bia", ATTENDANT_PASSWORD), lang="en")
    try:
        w.load()
        v = w.view
        assert v.user_box is None  # no picker: the API answers with bia's numbers only
        assert v.kpis["conversations"].cget("text") == "3"
        assert [d.ref for d in v.model.efficiency] == [ids["bia"]]
        names = [v.top_table.item(i, "values")[0] for i in v.top_table.get_children()]
        assert names == ["Fábio Lima", "Hugo Alves", "Gabi Souza"]
        assert v.kpis["pipeline_value"].cget("text") == "R$32,000"
        screenshot("dashboard_attendant_en")

        # A chart process killed: the next refresh draws in a new one, and says so.
        assert not v.message.cget("text").endswith(w.ctx.t("dash.charts_restarted"))
        os.kill(v.pool.pids[0], signal.SIGKILL)
        w.load()
        assert v.message.cget("text").endswith(w.ctx.t("dash.charts_restarted")), v.message.cget("text")
        assert all(c.fits() for c in v.cards.values())
    finally:
        w.close()


@pytest.mark.usefixtures("display")
def test_empty_dashboard_says_what_to_do(tmp_path):
    srv = make_server(tmp_path, None, conversa_timezone="UTC")
    srv.start(wait_model=False)
    try:
        w = Window(client_for(srv))
        try:
            w.load()
            t = w.ctx.t
            for key, fig in _figures(w).items():
                assert not fig.axes, key
                assert [x.get_text() for x in fig.texts] == [t(w.view.model.empty[key])]
                assert w.view.cards[key].image.regions == ()
            assert w.view.top_table.empty_label.cget("text") == t("dash.empty.top_contacts")
            assert w.view.kpis["conversations"].cget("text") == "0"
            screenshot("dashboard_empty")
        finally:
            w.close()
    finally:
        srv.stop()


# -- reports ----------------------------------------------------------------------------------


def _pdf_text(path) -> str:
    return subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, text=True, check=True).stdout


def _pdf_pages_to_png(path, name: str) -> list:
    ARTIFACTS.mkdir(exist_ok=True)
    for old in ARTIFACTS.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", "60", "-png", str(path), str(ARTIFACTS / name)], check=True)
    return sorted(ARTIFACTS.glob(f"{name}-*.png"))


class ReportsWindow(Window):
    def __init__(self, client: ApiClient, folder) -> None:
        self.root = tk.Tk()
        self.root.title("Conversa — relatórios")
        self.root.geometry("1000x500+0+0")
        self.bridge = Bridge()
        self.ctx = TabContext(client=client, bridge=self.bridge, t=Strings("pt_BR"),
                              extra={"reports_dir": str(folder), "weekly_reports": False})
        self.view = ReportsView(self.root, self.ctx)
        self.view.pack(fill="both", expand=True)


@pytest.mark.usefixtures("display")
def test_pdf_report_of_a_period(seeded, tmp_path):
    srv, ids = seeded
    w = ReportsWindow(client_for(srv), tmp_path)
    try:
        first, last = date.today() - timedelta(days=29), date.today()
        target = tmp_path / "escolhido" / "relatorio.pdf"
        w.view.generate(target, first, last)
        assert w.view.running and str(w.view.generate_button.cget("state")) == "disabled"
        pump(w.root, lambda: not w.view.running, 300, w.bridge)
        assert w.view.last_written == target and target.exists(), w.view.message.cget("text")
        assert w.view.progress.cget("value") == w.view.progress.cget("maximum") == 6
        assert w.view.message.cget("text") == f"Relatório salvo em {target}"
        screenshot("reports_tab")
        pages = _pdf_pages_to_png(target, "report")
        assert len(pages) == 6
        text = _pdf_text(target)
        assert f"{first:%d/%m/%Y} – {last:%d/%m/%Y}" in text
        for figure in ("Conversas", "R$ 49.200,00", "Fábio Lima", "R$ 30.000,00", "SLA por atendente", "ana", "bia",
                       "Hugo Alves", "negócio perdido", "Metas de SLA: primeira resposta em até 15 min"):
            assert figure in text, figure
        # The per-attendant SLA rows hold the API's numbers: bia's 3 conversations.
        bia_row = next(line for line in text.splitlines() if line.strip().startswith("bia "))
        assert bia_row.split()[1] == "3"
        assert list(target.parent.iterdir()) == [target]  # no temporary file left behind

        # Cancelled before its first page: no file at all.
        other = tmp_path / "cancelado.pdf"
        w.view.generate(other, first, last)
        w.view.cancel()
        pump(w.root, lambda: not w.view.running, 300, w.bridge)
        assert w.view.message.cget("text") == "Relatório cancelado; nenhum arquivo foi gravado."
        assert not other.exists() and not list(tmp_path.glob(".conversa-report-*"))
    finally:
        w.close()


def test_weekly_report_is_written_once_into_the_folder(seeded, tmp_path):
    srv, _ = seeded
    client = client_for(srv)
    today = date.today()
    monday, sunday = report_pdf.last_week(today)
    assert monday.weekday() == 0 and (sunday - monday).days == 6 and sunday < today <= sunday + timedelta(days=7)
    folder = tmp_path / "relatorios"
    path = report_pdf.weekly(client, folder, Strings("pt_BR"), today=today)
    assert path == folder / report_pdf.weekly_name(monday) and path.exists()
    assert path.name.startswith(f"conversa-semana-{monday.isocalendar()[0]}-W")
    text = _pdf_text(path)
    assert f"{monday:%d/%m/%Y} – {sunday:%d/%m/%Y}" in text and "Conversa — Relatório de atendimento" in text
    week = client.get("/metrics", **{"from": monday.isoformat(), "to": sunday.isoformat()})
    assert re.search(r"Conversas\s+(\d+)", text).group(1) == str(week["volumes"]["conversations"])
    _pdf_pages_to_png(path, "weekly")
    # Already there: not written again.
    assert report_pdf.weekly(client, folder, Strings("pt_BR"), today=today) is None

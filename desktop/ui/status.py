"""What the status bar and the tray say: server reachable, model state, running jobs, paused.
Plain data from the API in, texts out (unit-tested without Tk)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

RUNNING = ("queued", "running")


@dataclass
class StatusModel:
    up: bool | None = None
    model_id: str = ""
    model_state: str = ""
    model_error: str = ""
    jobs: int | None = None
    paused: bool | None = None

    def update(self, out: dict[str, Any]) -> None:
        """From one probe: ``{"health": …, "analysis"?: …, "jobs"?: …}``."""
        self.up = True
        model = (out.get("health") or {}).get("model") or {}
        self.model_id = model.get("id") or ""
        self.model_state = model.get("state") or ""
        err = model.get("error") or {}
        self.model_error = err.get("message", "") if isinstance(err, dict) else ""
        if "analysis" in out:
            self.paused = bool(out["analysis"].get("paused"))
        if "jobs" in out:
            self.jobs = sum(1 for j in out["jobs"].get("items", []) if j.get("state") in RUNNING)

    def down(self) -> None:
        self.up = False

    def texts(self, t: Callable[..., str]) -> dict[str, str]:
        if self.up is None:
            server = t("status.starting")
        else:
            server = t("status.server_up") if self.up else t("status.server_down")
        if not self.up or not self.model_state:
            model = ""
        elif self.paused:
            model = t("status.model_paused", id=self.model_id)
        else:
            error = self.model_error if len(self.model_error) <= 48 else self.model_error[:47] + "…"
            model = t(f"status.model_{self.model_state}", id=self.model_id, error=error)
        jobs = "" if not self.up or self.jobs is None else t("status.jobs", n=self.jobs)
        return {"server": server, "model": model, "jobs": jobs}

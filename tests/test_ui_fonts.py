"""Chat text shows its emoji and the window's symbols (✓ ✗ ⟳ ↔ ● ▼ ■ ▲) under Xvfb in the fonts
the window uses (sv-ttk's theme on Tk's named fonts; fontconfig finds the glyphs Tk's font lacks
in the colour emoji font scripts/test.sh installs). A missing glyph is drawn as the same empty
box as a private-use character no font has: each character's pixels must differ from that box,
and an emoji must have colour in it. The sample is written to tests/artifacts/ui_emoji.png."""

from __future__ import annotations

import subprocess
import tkinter as tk
from tkinter import ttk

from PIL import Image, ImageChops
from ui_support import ARTIFACTS, display  # noqa: F401 - fixture

EMOJI = ["🙏", "👍", "✅", "💚", "🚚", "🥰", "🙌"]  # the chat fixtures' emoji that DejaVu lacks
SYMBOLS = ["✓", "✗", "⟳", "↔", "●", "▼", "■", "▲"]
NO_GLYPH = "\ue000"  # private use: drawn as the "missing glyph" box


def grab(widget: tk.Widget, path) -> Image.Image:
    widget.update()
    subprocess.run(["import", "-window", str(widget.winfo_id()), str(path)], check=True, timeout=30)
    return Image.open(path).convert("RGB")


def coloured(img: Image.Image) -> bool:
    return img.convert("HSV").getchannel("S").getextrema()[1] > 100  # grey text has none


def test_emoji_and_symbols_render_in_the_window_fonts(display, tmp_path):  # noqa: F811
    import sv_ttk

    root = tk.Tk()
    try:
        sv_ttk.set_theme("light")  # as the window does
        frame = ttk.Frame(root, padding=8)
        frame.pack()
        for font in ("TkDefaultFont", "TkTextFont"):
            cells = {}
            for i, ch in enumerate([NO_GLYPH, *EMOJI, *SYMBOLS]):
                cell = ttk.Label(frame, text=ch, font=font, width=3, anchor="center")
                cell.grid(row=0 if font == "TkDefaultFont" else 1, column=i)
                cells[ch] = cell
            root.update()
            box = grab(cells[NO_GLYPH], tmp_path / "box.png")
            for ch in EMOJI + SYMBOLS:
                img = grab(cells[ch], tmp_path / f"{ord(ch):x}.png")
                assert ImageChops.difference(img, box).getbbox() is not None, f"{ch!r} drawn as a box in {font}"
                if ch in EMOJI:
                    assert coloured(img), f"{ch!r} has no colour in {font}"
        # A chat message as the Conversations tab shows it (a tk.Text in the default font).
        text = tk.Text(root, height=2, width=60, relief="flat")
        text.insert("end", "Oi! Chegou certinho 😊🙏 obrigada ✅ 💚 entrega 🚚 ✓")
        text.pack(padx=8, pady=8)
        root.update()
        ARTIFACTS.mkdir(exist_ok=True)
        assert coloured(grab(root, ARTIFACTS / "ui_emoji.png"))
    finally:
        root.destroy()

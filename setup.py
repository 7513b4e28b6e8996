"""Puts into the wheel what lives outside the packages in a checkout: the browser extension,
built (desktop/extension_build/, so users need no Node), and the model catalogue (llm/data/).

Everything else about the package is in pyproject.toml. An editable install skips this: a
checkout builds the extension from extension/ when `conversa extension install` runs.
"""

import importlib.util
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent


class BuildPyWithExtension(build_py):
    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        spec = importlib.util.spec_from_file_location("extension_bundle", HERE / "desktop" / "extension_bundle.py")
        bundle = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(bundle)
        bundle.build_all(HERE / "extension", Path(self.build_lib) / "desktop" / "extension_build")
        shutil.copyfile(HERE / "models" / "catalog.json", Path(self.build_lib) / "llm" / "data" / "catalog.json")


setup(cmdclass={"build_py": BuildPyWithExtension})

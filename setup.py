"""Build hook: the bundled catalogue goes into the wheel.

The catalogue (信用信息目录) lives at ``catalog/`` in the source tree, beside the package, where
it is edited and reviewed as data. A wheel copies the whole folder, whatever files and
subfolders it holds, to ``xinyong/_bundled_catalog/``; ``xinyong.settings`` looks there first
and then at the checkout's ``catalog/`` (editable installs read the source tree directly).
Everything else is declared in pyproject.toml.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

CATALOG = Path(__file__).resolve().parent / "catalog"
TARGET = ("xinyong", "_bundled_catalog")  # keep in step with xinyong/settings.py


class BuildPyWithCatalog(build_py):
    def run(self) -> None:
        super().run()
        if self.editable_mode:  # the source tree's catalog/ is read in place
            return
        target = Path(self.build_lib, *TARGET)
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(
            CATALOG, target, ignore=shutil.ignore_patterns(".*", "__pycache__", "*.pyc", "*~")
        )


setup(cmdclass={"build_py": BuildPyWithCatalog})

"""A complete install: the wheel, installed without extras into a fresh virtual environment,
starts, finds its bundled catalogue, builds a database, loads the sample and ingests a file.

Everything happens in one test so that the wheel is built and installed once per run (under
pytest-xdist the tests of a file may go to different workers). pip resolves the runtime
dependencies from its cache or PyPI, exactly as an operator's ``pip install`` would.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from xinyong.settings import Settings, bundled_catalog_dir

ROOT = Path(__file__).resolve().parents[1]
# what a build reads: the project files, the package and the catalogue (never tests or bench)
SOURCES = ["pyproject.toml", "setup.py", "MANIFEST.in", "README.md", "xinyong", "catalog"]
JUNK = shutil.ignore_patterns("__pycache__", "*.pyc", ".*", "*~")
PIP_MINUTES = 10  # a cold pip cache downloads every dependency


def _environment() -> dict[str, str]:
    """The caller's environment without anything that points at this checkout or its venv."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("XINYONG_", "PYTHON", "VIRTUAL_ENV", "PIP_")) and k != "DATABASE_URL"
    }
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["COLUMNS"] = "250"  # rich does not fold the Chinese table cells
    return env


def _run(args: list[str], cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    done = subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert done.returncode == 0, f"{args}: exit {done.returncode}\n{done.stdout}\n{done.stderr}"
    return done.stdout


def _catalog_files(folder: Path) -> set[str]:
    """The files a build takes from the catalogue (setup.py leaves out the same junk)."""
    files = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
    return {
        f.as_posix()
        for f in files
        if not any(part.startswith(".") or part == "__pycache__" for part in f.parts)
        and not f.name.endswith(("~", ".pyc"))
    }


@pytest.mark.slow
def test_the_wheel_installs_without_extras_and_runs(tmp_path: Path) -> None:
    started = time.monotonic()
    env = _environment()
    source = tmp_path / "source"
    source.mkdir()
    for name in SOURCES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, source / name, ignore=JUNK)
        else:
            shutil.copy2(path, source / name)

    # -- the wheel: the package and the whole catalogue -------------------------------------
    wheels = tmp_path / "wheels"
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "--quiet", "--wheel-dir", str(wheels), str(source)],
         tmp_path, env, timeout=PIP_MINUTES * 60)  # fmt: skip
    [wheel] = wheels.glob("xinyong-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    bundled = "xinyong/_bundled_catalog/"
    assert {n.removeprefix(bundled) for n in names if n.startswith(bundled)} == _catalog_files(
        ROOT / "catalog"
    )
    # every file of the package: modules, migrations, templates, code tables
    package = {
        p.relative_to(ROOT).as_posix()
        for p in (ROOT / "xinyong").rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
    }
    assert package - set(names) == set()
    assert not [n for n in names if n.startswith(("tests/", "bench/", "catalog/"))]

    # -- a fresh environment, no extras -----------------------------------------------------
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", str(venv)], tmp_path, env)
    python = venv / "bin" / "python"
    _run([*pip, "--python", str(python), "install", "--quiet", str(wheel)],
         tmp_path, env, timeout=PIP_MINUTES * 60)  # fmt: skip
    installed = time.monotonic()

    work = tmp_path / "work"
    work.mkdir()
    env["XINYONG_DATABASE_URL"] = f"sqlite:///{work / 'xinyong.db'}"
    xinyong = str(venv / "bin" / "xinyong")

    # the default catalogue is the one inside the installed package
    where = _run(
        [str(python), "-c", "from xinyong.settings import Settings; print(Settings().catalog_dir)"],
        work,
        env,
    ).strip()
    assert Path(where).is_relative_to(venv), where
    assert (Path(where) / "departments.yaml").is_file()

    assert "归集" in _run([xinyong, "--help"], work, env)
    _run([xinyong, "db", "upgrade"], work, env)
    listing = _run([xinyong, "catalog", "list"], work, env)
    assert "XZCF" in listing and "行政处罚" in listing

    sample = work / "sample"
    _run([xinyong, "sample", "generate", "--output", str(sample)], work, env)
    honours = sample / "表彰荣誉_发展和改革委员会.csv"
    receipt = json.loads(
        _run(
            [xinyong, "ingest", str(honours), "--dataset", "BZRY",
             "--dept", "11410900PY0000014R", "--json"],
            work, env,
        )
    )  # fmt: skip
    assert receipt["received"] == receipt["new"] > 0 and receipt["rejected"] == 0, receipt
    loaded = _run([xinyong, "sample", "load", str(sample)], work, env)
    assert "行政处罚_市场监管局_GBK.csv" in loaded
    assert "BZRY" in _run([xinyong, "batches"], work, env)

    print(
        f"wheel built and installed in {installed - started:.0f} s, "
        f"commands run in {time.monotonic() - installed:.0f} s"
    )


def test_a_checkout_runs_on_its_catalog_folder_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("XINYONG_CATALOG_DIR", raising=False)
    assert Settings().catalog_dir == bundled_catalog_dir() == ROOT / "catalog"
    monkeypatch.setenv("XINYONG_CATALOG_DIR", str(tmp_path))
    assert Settings().catalog_dir == tmp_path

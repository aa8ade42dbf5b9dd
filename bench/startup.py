"""Start-up benchmark: `xinyong --help` and a small ingest, in CPU seconds (issue 13, item 5).

    .venv/bin/python bench/startup.py [--runs 5]

For each command it prints the median CPU time (user + system) of the whole process, and, from
``python -X importtime``, how much of the import time is the platform's own modules (``xinyong.*``
self time) and how much the libraries'. CPU time rather than wall time: the machine is shared,
and a loaded machine stretches wall time without telling us anything about our code.

The platform's modules are byte-compiled first and the commands run with bytecode caching on,
as an installed platform runs (pip compiles a wheel's modules at install): a checkout with
``PYTHONDONTWRITEBYTECODE`` set would otherwise compile ≈ 250 modules on every start, half a
second that no deployment pays.
"""

from __future__ import annotations

import argparse
import compileall
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from ingest import generate  # noqa: E402

PYTHON = str(ROOT / ".venv" / "bin" / "python")
XINYONG = str(ROOT / ".venv" / "bin" / "xinyong")
_LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|(\s+)(\S+)")


def _cpu(cmd: list[str], env: dict[str, str]) -> float:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, env=env, check=False, capture_output=True)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _import_split(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds of import self time in xinyong.* and in everything else."""
    proc = subprocess.run(
        [PYTHON, "-X", "importtime", XINYONG, *args],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    ours = theirs = 0
    for m in _LINE.finditer(proc.stderr):
        if m.group(4).startswith("xinyong"):
            ours += int(m.group(1))
        else:
            theirs += int(m.group(1))
    return ours / 1e6, theirs / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="xinyong-startup-"))
    env = {**os.environ, "XINYONG_DATABASE_URL": f"sqlite:///{work / 'x.db'}"}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    compileall.compile_dir(ROOT / "xinyong", quiet=1)
    xinyong = [PYTHON, XINYONG]
    subprocess.run([*xinyong, "db", "upgrade"], env=env, check=True, capture_output=True)
    small = work / "xzcf_200.csv"
    dept = generate(200, small)
    ingest = ["ingest", str(small), "--dataset", "XZCF", "--dept", dept.uscc, "--dry-run"]
    commands = {"xinyong --help": ["--help"], "xinyong ingest (200 rows, --dry-run)": ingest}
    print(f"{'command':52}{'CPU s':>8}{'import wall: ours':>19}{'libraries':>11}")
    for label, cmd in commands.items():
        cpu = statistics.median(_cpu([*xinyong, *cmd], env) for _ in range(args.runs))
        ours, theirs = _import_split(cmd, env)
        print(f"{label:52}{cpu:8.2f}{ours:19.2f}{theirs:11.2f}")
    for p in work.iterdir():
        p.unlink()
    work.rmdir()


if __name__ == "__main__":
    main()

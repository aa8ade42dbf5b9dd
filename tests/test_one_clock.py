"""Time is an input: no code under ``xinyong/`` reads the wall clock for a date or an instant
except ``xinyong/clock.py``. Everything else asks ``clock.now(conn)`` / ``clock.today(conn)`` or
the settings' clock, so that tests and "as if" runs (``XINYONG_CLOCK_START``) set the time."""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "xinyong"
ALLOWED = {PACKAGE / "clock.py"}
# datetime.now(…), datetime.utcnow(), date.today(), datetime.today(), time.time() (as a date)
WALL_CLOCK = re.compile(r"\b(?:datetime\.(?:now|utcnow|today)|date\.today|time\.time)\(")


def wall_clock_reads(root: Path) -> list[str]:
    found = []
    for path in sorted(root.rglob("*.py")):
        if path in ALLOWED:
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            code = line.split("#", 1)[0]
            if WALL_CLOCK.search(code):
                found.append(f"{path.relative_to(root.parent)}:{n}: {line.strip()}")
    return found


def test_no_wall_clock_outside_the_clock_module() -> None:
    offenders = [
        hit
        for hit in wall_clock_reads(PACKAGE)
        # the receiving department's side of a webhook checks freshness on its own clock
        if not hit.startswith("xinyong/notifications/signing.py:")
    ]
    assert offenders == [], "use xinyong.clock (now(conn), today(conn), Settings.clock):\n" + (
        "\n".join(offenders)
    )


def test_no_test_reads_the_wall_clock() -> None:
    """Tests read dates from their clock (fixtures/clock.py TEST_START, the ``clock`` fixture),
    so the suite passes whatever day the machine thinks it is."""
    tests = Path(__file__).resolve().parent
    offenders = [
        hit for hit in wall_clock_reads(tests) if not hit.startswith("tests/test_one_clock.py:")
    ]
    assert offenders == [], "read TEST_START or move the test clock:\n" + "\n".join(offenders)


def test_the_scan_finds_a_wall_clock_read(tmp_path: Path) -> None:
    pkg = tmp_path / "xinyong"
    pkg.mkdir()
    (pkg / "fine.py").write_text("from xinyong import clock\nat = clock.now(conn)\n")
    (pkg / "bad.py").write_text(
        "from datetime import UTC, date, datetime\n"
        "a = datetime.now(UTC)\n"
        "b = date.today()  # a comment: datetime.now( is fine here\n"
    )
    assert [h.split(": ")[0] for h in wall_clock_reads(pkg)] == [
        "xinyong/bad.py:2",
        "xinyong/bad.py:3",
    ]

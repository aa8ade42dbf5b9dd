"""Credit-report benchmark: one report built and rendered, beside reportlab's own floor.

    .venv/bin/python bench/report.py [--records 50] [--runs 20] [--pg URL]

Loads one company with about ``--records`` records (registration, penalties, a tax grade)
through the real ingestion into a fresh database (SQLite in a temporary folder, or a fresh
schema of the PostgreSQL database at ``--pg``), then, after warm-up, times in the same run:

* ours: ``issue_report`` (read through the disclosure engine, canonical snapshot, SHA-256,
  stored row, audit event; one committed transaction) plus ``render_report`` (the PDF);
* raw limit: reportlab rendering a one-page PDF with the same embedded font and no data;
* raw limit with the same text: reportlab writing every text of the report as plain lines
  (same font, no tables, no wrapping), i.e. what the text alone costs to set and embed.

It prints the median and p90 wall time and the median CPU time of each, and the ratios.
reportlab's C accelerators (the separate ``rl_accel`` package) are not installed; reportlab
then runs its pure-Python fallbacks. Target (issue 4): under 0.5 s.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from reportlab.lib.pagesizes import A4  # noqa: E402
from reportlab.pdfgen.canvas import Canvas  # noqa: E402
from reports.data import PUBLIC, load  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from xinyong.catalog.loader import load_catalog  # noqa: E402
from xinyong.db import make_engine, upgrade_schema  # noqa: E402
from xinyong.reports.content import ReportKind  # noqa: E402
from xinyong.reports.pdf import render_report, report_font  # noqa: E402
from xinyong.reports.service import IssuedReport, issue_report  # noqa: E402
from xinyong.settings import Settings  # noqa: E402


def _times(fn: Callable[[], object], runs: int, warmup: int = 3) -> list[tuple[float, float]]:
    """(wall, CPU) seconds of each run: the machine is shared, and CPU time shows what the
    work itself costs when other processes hold the cores."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        out.append((time.perf_counter() - wall, time.process_time() - cpu))
    return out


def _summary(label: str, times: list[tuple[float, float]]) -> float:
    walls = sorted(t[0] for t in times)
    median = statistics.median(walls)
    p90 = walls[max(int(len(walls) * 0.9) - 1, 0)]
    cpu = statistics.median(t[1] for t in times)
    print(
        f"{label:<46} median {median * 1000:7.1f} ms   p90 {p90 * 1000:7.1f} ms"
        f"   CPU {cpu * 1000:7.1f} ms"
    )
    return median


def _strings(content: dict[str, Any]) -> list[str]:
    """Every text the report prints, label and value, in order."""
    texts = [content["title"], content["report_no"], content["subject"]["name"]]
    for section in content["sections"]:
        texts.append(section["title"])
        for part in section["datasets"]:
            for record in part["records"]:
                texts += [f"{i['name']}：{i['value']}" for i in record["items"]]
    return texts + content["notes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--pg", help="PostgreSQL URL; a fresh schema is made and dropped")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="xinyong-bench-report-"))
    schema = None
    if args.pg:
        schema = f"bench_{uuid.uuid4().hex[:10]}"
        admin = create_engine(args.pg.replace("postgresql://", "postgresql+psycopg://", 1))
        with admin.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA {schema}"))
        sep = "&" if "?" in args.pg else "?"
        url = f"{args.pg}{sep}options=-csearch_path%3D{schema}"
    else:
        url = f"sqlite:///{workdir / 'bench.db'}"
    settings = Settings(database_url=url, catalog_dir=ROOT / "catalog")
    engine = make_engine(settings)
    try:
        upgrade_schema(engine)
        catalog = load_catalog(settings.catalog_dir)
        # registration + tax grade + penalties = the records asked for
        loaded = load(engine, catalog, workdir / "deliveries", penalties=max(args.records - 2, 1))

        def issue() -> IssuedReport:
            with engine.begin() as conn:
                return issue_report(
                    conn, catalog, PUBLIC, loaded.company_id, kind=ReportKind.PUBLIC
                )

        def ours() -> bytes:
            return render_report(issue(), settings)

        stored = issue()

        font = report_font(settings.report_font_path)

        def raw() -> bytes:
            buffer = io.BytesIO()
            canvas = Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
            canvas.setFont(font, 12)
            canvas.drawString(72, 760, "公共信用信息报告")
            canvas.showPage()
            canvas.save()
            return buffer.getvalue()

        texts = _strings(stored.content)

        def raw_same_text() -> bytes:
            # the same strings, no layout: one line each, 50 lines a page
            buffer = io.BytesIO()
            canvas = Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
            for i, line in enumerate(texts):
                if i and i % 50 == 0:
                    canvas.showPage()
                canvas.setFont(font, 8.5)
                canvas.drawString(50, 800 - (i % 50) * 15, line[:60])
            canvas.showPage()
            canvas.save()
            return buffer.getvalue()

        sample = ours()
        pages = sample.count(b"/Type /Page\n") or sample.count(b"/Type /Page")
        print(f"database: {engine.dialect.name}; records: {args.records}; runs: {args.runs}")
        print(f"report PDF: {len(sample) / 1024:.0f} KiB, about {pages} pages")
        mine = _summary("ours: issue (store + audit) + render PDF", _times(ours, args.runs))
        _summary("  of which issue (read, hash, store, audit)", _times(issue, args.runs))
        _summary(
            "  of which render PDF", _times(lambda: render_report(stored, settings), args.runs)
        )
        floor = _summary("raw limit: one-page PDF, same font, no data", _times(raw, args.runs))
        same = _summary(
            f"raw limit: same {len(texts)} texts, plain lines", _times(raw_same_text, args.runs)
        )
        print(
            f"ratio ours / one-page floor: {mine / floor:.0f}x;"
            f" ours / same-text floor: {mine / same:.1f}x;   target: ours < 500 ms"
        )
    finally:
        engine.dispose()
        if schema is not None:
            with admin.begin() as conn:
                conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
            admin.dispose()


if __name__ == "__main__":
    main()

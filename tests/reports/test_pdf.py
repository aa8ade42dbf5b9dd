"""The report's PDF: the font really embedded, the text extractable, deterministic rendering."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from fixtures.deliveries import XINYUAN
from fixtures.tools import require
from sqlalchemy import Engine

from reports.data import CLERK, PHONE, PUBLIC, Loaded, myself
from xinyong import clock
from xinyong.audit.queries import record_read
from xinyong.catalog.loader import Catalog
from xinyong.errors import XinyongError
from xinyong.evaluation import service
from xinyong.evaluation.definitions import model_book
from xinyong.evaluation.runs import run_model
from xinyong.reports.content import ReportKind
from xinyong.reports.pdf import render_report, verify_url
from xinyong.reports.service import IssuedReport, get_report, issue_report
from xinyong.settings import Settings


def _issue(engine: Engine, catalog: Catalog, subject: int, kind=ReportKind.PUBLIC, who=PUBLIC):
    with engine.begin() as conn:
        return issue_report(conn, catalog, who, subject, kind=kind)


def _pdf(report: IssuedReport, settings: Settings, path: Path) -> Path:
    path.write_bytes(render_report(report, settings))
    return path


def _text(path: Path) -> str:
    pdftotext = require("pdftotext", "poppler-utils")
    run = subprocess.run(
        [pdftotext, "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    )
    return run.stdout.decode("utf-8")


def test_the_font_is_embedded(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings, tmp_path: Path
) -> None:
    pdffonts = require("pdffonts", "poppler-utils")
    path = _pdf(_issue(engine, catalog, loaded.company_id), settings, tmp_path / "r.pdf")
    listing = subprocess.run(
        [pdffonts, str(path)], capture_output=True, text=True, check=True
    ).stdout
    fonts = listing.splitlines()[2:]
    assert fonts, listing
    for line in fonts:
        # name, type, encoding, emb, sub, uni, object, generation: every font embedded
        assert "WenQuanYi" in line, listing
        assert line.split()[-5] == "yes", listing


def test_the_text_extracts(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings, tmp_path: Path
) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    text = _text(_pdf(report, settings, tmp_path / "r.pdf"))
    flat = re.sub(r"\s+", "", text)
    assert XINYUAN.name in flat
    assert report.report_no in flat
    assert report.sha256[:40] in flat  # the hash may wrap after that
    assert "法人和非法人组织公共信用信息报告" in flat
    assert "信用信息概要" in flat and "二、行政管理信息" in flat and "十、信用状况提升建议" in flat
    assert re.search(r"第1页共\d+页", flat)
    pages = int(re.findall(r"共(\d+)页", flat)[0])
    assert f"第{pages}页共{pages}页" in flat
    assert "本报告根据" in flat and "的数据生成" in flat and "北京时间" in flat
    assert "信用信息查询记录" not in flat
    assert PHONE not in flat


def test_the_self_report_prints_the_query_history(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings, tmp_path: Path
) -> None:
    with engine.begin() as conn:
        record_read(conn, CLERK, loaded.company_id, what="record.read", purpose="招投标资格审查")
    report = _issue(engine, catalog, loaded.company_id, ReportKind.SELF, myself(loaded.company_id))
    flat = re.sub(r"\s+", "", _text(_pdf(report, settings, tmp_path / "self.pdf")))
    assert "信用信息查询记录" in flat
    assert "濮阳市生态环境局" in flat and "招投标资格审查" in flat
    assert "纳税信用等级" in flat


def test_rendering_is_deterministic_from_the_stored_snapshot(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings
) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    first = render_report(report, settings)
    with engine.connect() as conn:
        stored = get_report(conn, report.report_no)
    assert render_report(stored, settings) == first
    assert first.startswith(b"%PDF-")


def test_the_qr_code_points_at_the_verification_page(settings: Settings) -> None:
    custom = settings.model_copy(update={"public_base_url": "https://xy.puyang.gov.cn/"})
    assert verify_url(custom, "XY1") == "https://xy.puyang.gov.cn/verify/XY1"


def test_a_missing_font_is_a_clear_error(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings, tmp_path: Path
) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    broken = settings.model_copy(update={"report_font_path": tmp_path / "nope.ttc"})
    with pytest.raises(XinyongError) as caught:
        render_report(report, broken)
    assert caught.value.code == "REPORT_FONT_MISSING"
    assert "fonts-wqy-zenhei" in caught.value.message


def test_a_font_that_cannot_be_embedded_is_refused(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings, tmp_path: Path
) -> None:
    report = _issue(engine, catalog, loaded.company_id)
    fake = tmp_path / "fake.ttf"
    fake.write_bytes(b"OTTO" + b"\0" * 64)  # a CFF-flavoured OpenType header, no tables
    broken = settings.model_copy(update={"report_font_path": fake})
    with pytest.raises(XinyongError) as caught:
        render_report(report, broken)
    assert caught.value.code == "REPORT_FONT_UNUSABLE"


def test_the_self_report_explains_the_grades(
    engine: Engine, catalog: Catalog, loaded: Loaded, settings: Settings, tmp_path: Path
) -> None:
    """Issue 15 item 3: the self report carries the subject's grade with the points by
    indicator, the records behind them and what would change the grade; the public report
    never, even when handed the results."""
    model = model_book(catalog).get("QYGGXY")
    with engine.begin() as conn:
        run_model(conn, catalog, model, as_of=clock.today(conn), actor="t")
        own = myself(loaded.company_id)
        explained = service.evaluations_of(conn, catalog, own, loaded.company_id)
        mine = issue_report(
            conn, catalog, own, loaded.company_id, kind=ReportKind.SELF, evaluations=explained
        )
        public = issue_report(
            conn, catalog, PUBLIC, loaded.company_id, kind=ReportKind.PUBLIC, evaluations=explained
        )
    found = next(e for e in explained if e["model"] == "QYGGXY")
    flat = re.sub(r"\s+", "", _text(_pdf(mine, settings, tmp_path / "self.pdf")))
    assert "十二、信用评价结果及说明" in flat and "企业公共信用综合评价" in flat
    assert f"评价等级{found['grade']}（{found['grade_label']}）" in flat
    assert f"得分{found['score']:g}" in flat
    assert f"监管分类{found['class']}类" in flat
    assert "各项指标得分及依据的信用记录" in flat
    counted = [i for i in found["indicators"] if i["records"]]
    assert counted, "the loaded company has penalties that count"
    for ind in counted:
        assert re.sub(r"\s+", "", ind["name"]) in flat
        assert f"{ind['points']:+g}" in flat
        for r in ind["records"]:
            assert f"{r['dataset_name']}{r['decision_date']}（{r['points']:+g}）" in flat
    assert "什么会改变评价等级" in flat
    for change in found["changes"]:
        assert f"{change['on']}起" in flat and f"等级{change['grade_then']}" in flat
    assert "仅向信用主体本人提供" in flat  # the note on the evaluation
    assert "除第十二部分的信用评价结果外，不提供评分或评级" in flat
    public_flat = re.sub(r"\s+", "", _text(_pdf(public, settings, tmp_path / "public.pdf")))
    assert "信用评价结果" not in public_flat and "evaluations" not in public.content

"""The check's answer is written by orjson with the bytes the standard encoder wrote."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.responses import JSONResponse

from xinyong.web.api.checks import _json_answer, _plain

ANSWERS: list[dict[str, Any]] = [
    {
        "check_id": 7,
        "matter": {"code": "procurement", "name": "政府采购"},
        "subject": {"name": '濮阳\u2028测试"企业"\\有限公司\n\t\x01', "uscc": None},
        "hits": [{"decision_date": date(2026, 1, 2), "via": ["法定代表人", "甲", ""]}],
        "at": datetime(2026, 12, 7, 8, 0, 0, 123, tzinfo=UTC),
        "measures": [],
        "flags": [True, False, None, -3, 2**53 - 1],
        "nested": {"a": {"b": [[], {}]}},
        5: "an integer key",
    },
    {"ratio": 0.1, "big": 1e16, "small": 1e-7},  # floats: the standard way
    {"huge": 2**70},  # past 64 bits: the standard way
]


@pytest.mark.parametrize("answer", ANSWERS)
def test_same_bytes_as_the_standard_encoder(answer: dict[str, Any]) -> None:
    ours = _json_answer(answer, 201)
    standard = JSONResponse(_plain(answer), status_code=201)
    assert ours.body == standard.body
    assert ours.status_code == 201
    assert ours.headers["content-type"] == standard.headers["content-type"]

"""Normalisation of subject names for matching (主体名称规范化)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xinyong.subjects.names import normalize_name


@pytest.mark.parametrize(
    ("written", "as_registered"),
    [
        # Chinese and ASCII brackets
        ("濮阳市华龙区鑫源商贸有限公司（分公司）", "濮阳市华龙区鑫源商贸有限公司(分公司)"),
        ("濮阳市华龙区鑫源商贸有限公司〔分公司〕", "濮阳市华龙区鑫源商贸有限公司(分公司)"),
        ("濮阳市华龙区鑫源商贸有限公司[分公司]", "濮阳市华龙区鑫源商贸有限公司(分公司)"),
        ("濮阳市华龙区鑫源商贸有限公司［分公司］", "濮阳市华龙区鑫源商贸有限公司(分公司)"),
        # spaces anywhere, ASCII, full-width (U+3000), non-breaking, tabs
        ("濮阳市 华龙区 鑫源商贸有限公司", "濮阳市华龙区鑫源商贸有限公司"),
        ("濮阳市\u3000华龙区鑫源商贸有限公司\u00a0", "濮阳市华龙区鑫源商贸有限公司"),
        (" 濮阳市华龙区鑫源商贸有限公司\t", "濮阳市华龙区鑫源商贸有限公司"),
        # full-width letters and digits; Latin case
        ("濮阳ＡＢＣ１２３科技有限公司", "濮阳ABC123科技有限公司"),
        ("濮阳abc科技有限公司", "濮阳ABC科技有限公司"),
        ("中原油田ＳＰＡ服务中心（濮阳）", "中原油田SPA服务中心(濮阳)"),
    ],
)
def test_spellings_of_one_name_normalise_alike(written: str, as_registered: str) -> None:
    assert normalize_name(written) == normalize_name(as_registered)


def test_the_normal_form() -> None:
    assert normalize_name(" 清丰县（恒达）建材 有限公司 ") == "清丰县(恒达)建材有限公司"
    assert normalize_name("ｐｕｙａｎｇ") == "PUYANG"


@pytest.mark.parametrize(
    ("one", "other"),
    [
        ("濮阳市华龙区鑫源商贸有限公司", "濮阳市华龙区鑫源商贸有限责任公司"),
        ("濮阳县龙都石油机械有限公司", "濮阳市龙都石油机械有限公司"),
        ("王建国", "王建华"),
    ],
)
def test_different_names_stay_different(one: str, other: str) -> None:
    assert normalize_name(one) != normalize_name(other)


# what company names are made of: CJK, both bracket styles, spaces of every width, Latin
_NAME_CHARS = st.sampled_from(
    list("濮阳市华龙区鑫源商贸有限公司（）()〔〕[]［］ \u3000\t\u00a0ＡＢａｂAbc12１２・-")
)


@given(st.text(alphabet=_NAME_CHARS))
def test_normalisation_is_idempotent(name: str) -> None:
    once = normalize_name(name)
    assert normalize_name(once) == once
    assert not any(ch.isspace() for ch in once)

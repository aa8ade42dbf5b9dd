"""The test configuration enforces what CI promises: a deprecation warning attributed to our
own code fails the test that triggers it (pyproject: filterwarnings), a library's does not."""

from __future__ import annotations

import warnings

import pytest


def _warn_as(module: str) -> None:
    # warnings attribute a warning to the module of the calling frame: run the call as if it
    # were written in ``module``
    code = compile("warnings.warn('旧接口', DeprecationWarning)", f"<{module}>", "exec")
    exec(code, {"__name__": module, "warnings": warnings})


@pytest.mark.parametrize("module", ["xinyong", "xinyong.ingest.service"])
def test_a_deprecation_from_our_code_is_an_error(module: str) -> None:
    with pytest.raises(DeprecationWarning, match="旧接口"):
        _warn_as(module)


@pytest.mark.parametrize("module", ["starlette.testclient", "xinyongish"])
def test_a_deprecation_from_elsewhere_is_only_reported(module: str) -> None:
    with warnings.catch_warnings(record=True) as seen:
        _warn_as(module)
    assert [str(w.message) for w in seen] == ["旧接口"]

"""The C YAML parser reads every catalogue file into the same objects as the pure-Python one."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from xinyong import yamlio
from xinyong.settings import Settings


def test_the_c_parser_is_used_where_pyyaml_has_it() -> None:
    if not yaml.__with_libyaml__:
        pytest.skip("this PyYAML was built without libyaml")
    assert yamlio.SafeLoader is yaml.CSafeLoader


def test_every_catalogue_file_reads_the_same_with_both_parsers() -> None:
    files = sorted(Path(Settings().catalog_dir).rglob("*.yaml"))
    assert len(files) > 10
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert yamlio.safe_load(text) == yaml.load(text, Loader=yaml.SafeLoader), path


def test_unsafe_tags_are_refused() -> None:
    with pytest.raises(yaml.YAMLError):
        yamlio.safe_load("!!python/object/apply:os.system ['true']")

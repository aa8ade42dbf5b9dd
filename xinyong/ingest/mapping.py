"""Mapping files: a department's own export layout onto a catalogue dataset.

A mapping is a small YAML file::

    dataset: XZCF                        # optional; checked against --dataset
    headers:                             # source header -> item code or Chinese item name
      被处罚单位名称: CF_XDR_MC
    constants:                           # values the export does not carry
      CF_XDR_LB: 法人及非法人组织
    derive:                              # items computed from a source column
      CF_JDRQ: {from: 作出处罚决定的日期, strip_spaces: true}
      CF_NR_FK: {from: 行政处罚决定, amount: 罚款, unit: 万元}
      CF_CFLB: {from: 行政处罚决定, keywords: {罚款: 罚款, 警告: 警告}, default: 其他}
      XK_NR_FK: {from: 罚款金额（元）, scale: 0.0001}
      CF_WSH: {from: 文号, regex: '^[（(]?(.+?)[)）]?$'}

Transforms apply in this order: ``strip_spaces``, ``regex``, ``amount`` / ``keywords`` /
``scale``. A derived value that cannot be computed is left empty, so the ordinary checks then
say what is missing; nothing is guessed silently.
"""

from __future__ import annotations

import re
from collections.abc import Mapping as MappingT
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xinyong import yamlio
from xinyong.errors import FileRefused
from xinyong.ingest.values import format_decimal

_UNIT_YUAN = {"元": Decimal(1), "万元": Decimal(10_000), "亿元": Decimal(100_000_000)}


class Derive(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: str = Field(alias="from")
    strip_spaces: bool = False
    regex: str | None = None
    amount: str | None = None  # keyword the amount follows, e.g. 罚款 or 没收
    unit: Literal["元", "万元", "亿元"] = "万元"  # unit of the target item
    keywords: dict[str, str] = {}
    default: str | None = None
    scale: Decimal | None = None


class MappingSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    dataset: str | None = None
    headers: dict[str, str] = {}
    constants: dict[str, str] = {}
    derive: dict[str, Derive] = {}


@dataclass
class Mapping:
    spec: MappingSpec
    raw: dict[str, Any] = field(default_factory=dict)
    _patterns: dict[str, re.Pattern[str]] = field(default_factory=dict)

    def derived(self, target: str, rule: Derive, row: MappingT[str, Any]) -> str | None:
        value = row.get(rule.from_)
        if value is None:
            return rule.default if rule.keywords else None
        text = value.isoformat() if hasattr(value, "isoformat") else str(value)
        if rule.strip_spaces:
            text = "".join(text.split())
        if rule.regex:
            pattern = self._patterns.setdefault(target, re.compile(rule.regex))
            match = pattern.search(text)
            if match is None:
                return None
            text = match.group(1) if match.groups() else match.group(0)
        if rule.amount is not None:
            yuan = amount_after(text, rule.amount)
            if yuan is None:
                return None
            return format_decimal(yuan / _UNIT_YUAN.get(rule.unit, Decimal(1)))
        if rule.keywords:
            found = [v for k, v in rule.keywords.items() if k in text]
            unique = list(dict.fromkeys(found))
            return ";".join(unique) if unique else rule.default
        if rule.scale is not None:
            try:
                return format_decimal(Decimal(text.replace(",", "")) * rule.scale)
            except InvalidOperation:
                return text  # left for the item's own check to report
        return text or None


def load_mapping(path: Path) -> Mapping:
    try:
        raw = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise FileRefused("MAPPING_INVALID", f"映射文件 {path} 无法读取：{exc}") from exc
    try:
        spec = MappingSpec.model_validate(raw)
    except ValidationError as exc:
        problems = "；".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise FileRefused("MAPPING_INVALID", f"映射文件 {path} 有误：{problems}") from exc
    for target, rule in spec.derive.items():
        if rule.regex:
            try:
                re.compile(rule.regex)
            except re.error as exc:
                raise FileRefused(
                    "MAPPING_INVALID", f"映射文件 {path}: {target} 的正则表达式有误：{exc}"
                ) from exc
    return Mapping(spec=spec, raw=raw)


# -- amounts written in words -------------------------------------------------------------------

_AMOUNT = re.compile(
    r"(?:人民币)?\s*"
    r"([0-9０-９][0-9０-９,，.．]*[千百]?|[零〇一二两三四五六七八九十百千万亿点壹贰叁肆伍陆柒捌玖拾佰仟]+)"
    r"\s*(亿元|万元|元|亿|万)"
)


_FILLER = re.compile(r"(?:人民币|共计|合计|总计|金额|总额|计|为|了|[（(]人民币[)）]|:|：|\s)*")


def _number(text: str) -> Decimal | None:
    import unicodedata

    s = unicodedata.normalize("NFKC", text).replace(",", "").replace("，", "")
    if re.fullmatch(r"\d+(\.\d+)?", s):
        return Decimal(s)
    try:
        import cn2an

        return Decimal(str(cn2an.cn2an(s, "smart")))
    except (ValueError, KeyError):
        return None


def amount_after(text: str, keyword: str) -> Decimal | None:
    """The amount in yuan that follows ``keyword`` in a decision text.

    '罚款30万元' → 300000; '罚款人民币二十二万元' → 220000; '警告并罚款0.5万元' → 5000.
    Where the text states a total (合计罚款…), the total wins; otherwise every amount after the
    keyword is added up (a decision fining the unit for several violations).
    """
    total_at = text.find("合计" + keyword)
    if total_at >= 0:
        found = _AMOUNT.search(text, total_at)
        if found:
            return _to_yuan(found)
    total = Decimal(0)
    seen = False
    start = 0
    while (at := text.find(keyword, start)) >= 0:
        after = at + len(keyword)
        # 罚款30万元 / 罚款人民币二十二万元 / 罚款共计5万元: the amount follows the keyword …
        skip = _FILLER.match(text, after)
        found = _AMOUNT.match(text, skip.end() if skip else after)
        if found is None:
            # … or precedes it: 处9万元罚款, 处以13万元的罚款
            found = _amount_before(text, max(start, at - 20), at)
        if found is not None:
            value = _to_yuan(found)
            if value is not None:
                total += value
                seen = True
        start = max(after, found.end() if found is not None else after)
    return total if seen else None


def _amount_before(text: str, lo: int, at: int) -> re.Match[str] | None:
    last = None
    for m in _AMOUNT.finditer(text, lo, at):
        last = m
    if last is not None and text[last.end() : at].strip() in ("", "的"):
        return last
    return None


def _to_yuan(match: re.Match[str]) -> Decimal | None:
    number = _number(match.group(1))
    if number is None:
        return None
    unit = match.group(2)
    factor = {"亿": "亿元", "万": "万元"}.get(unit, unit)
    return number * _UNIT_YUAN[factor]

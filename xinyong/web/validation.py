"""Request validation problems in Chinese: each problem keeps where it was (``in``: query,
path, body, header, cookie; ``field``: the dotted path inside it, list positions included) and
gets a stable code and a Chinese reason, instead of pydantic's English message.

The codes are part of the API contract (`xinyong.web.api.contract` documents them): a client
may branch on ``TOO_LONG`` but never on the wording of ``reason``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

Problem = dict[str, str]

# pydantic error type -> (stable code, reason given the error's context)
_Reason = Callable[[Mapping[str, Any]], str]


def _fixed(text: str) -> _Reason:
    return lambda _ctx: text


def _limit(template: str, key: str) -> _Reason:
    return lambda ctx: template.format(ctx.get(key, ""))


def _choices(ctx: Mapping[str, Any]) -> str:
    expected = ctx.get("expected")
    return f"取值应为 {expected} 之一" if expected else "取值不在允许的范围内"


_RULES: dict[str, tuple[str, _Reason]] = {
    "missing": ("MISSING", _fixed("必须提供")),
    "string_too_short": ("TOO_SHORT", _limit("至少 {} 个字符", "min_length")),
    "string_too_long": ("TOO_LONG", _limit("至多 {} 个字符", "max_length")),
    "too_short": ("TOO_FEW", _limit("至少 {} 项", "min_length")),
    "too_long": ("TOO_MANY", _limit("至多 {} 项", "max_length")),
    "string_pattern_mismatch": ("PATTERN_MISMATCH", _fixed("格式不符合要求")),
    "string_type": ("NOT_TEXT", _fixed("应为文本")),
    "string_unicode": ("NOT_TEXT", _fixed("应为 UTF-8 文本")),
    "int_parsing": ("NOT_INTEGER", _fixed("应为整数")),
    "int_type": ("NOT_INTEGER", _fixed("应为整数")),
    "int_from_float": ("NOT_INTEGER", _fixed("应为整数")),
    "int_parsing_size": ("TOO_LARGE", _fixed("数值超出范围")),
    "float_parsing": ("NOT_NUMBER", _fixed("应为数字")),
    "float_type": ("NOT_NUMBER", _fixed("应为数字")),
    "greater_than_equal": ("TOO_SMALL", _limit("不能小于 {}", "ge")),
    "greater_than": ("TOO_SMALL", _limit("应大于 {}", "gt")),
    "less_than_equal": ("TOO_LARGE", _limit("不能大于 {}", "le")),
    "less_than": ("TOO_LARGE", _limit("应小于 {}", "lt")),
    "bool_parsing": ("NOT_BOOLEAN", _fixed("应为 true 或 false")),
    "bool_type": ("NOT_BOOLEAN", _fixed("应为 true 或 false")),
    "date_parsing": ("NOT_DATE", _fixed("应为日期（YYYY-MM-DD）")),
    "date_from_datetime_parsing": ("NOT_DATE", _fixed("应为日期（YYYY-MM-DD）")),
    "date_from_datetime_inexact": ("NOT_DATE", _fixed("应为日期（YYYY-MM-DD），不带时间")),
    "date_type": ("NOT_DATE", _fixed("应为日期（YYYY-MM-DD）")),
    "datetime_parsing": ("NOT_DATETIME", _fixed("应为日期时间（ISO 8601）")),
    "datetime_type": ("NOT_DATETIME", _fixed("应为日期时间（ISO 8601）")),
    "literal_error": ("NOT_ALLOWED_VALUE", _choices),
    "enum": ("NOT_ALLOWED_VALUE", _choices),
    "extra_forbidden": ("UNKNOWN_FIELD", _fixed("不是本接口的字段")),
    "json_invalid": ("NOT_JSON", _fixed("请求内容不是有效的 JSON")),
    "json_type": ("NOT_JSON", _fixed("请求内容不是有效的 JSON")),
    "model_attributes_type": ("NOT_OBJECT", _fixed("应为 JSON 对象")),
    "model_type": ("NOT_OBJECT", _fixed("应为 JSON 对象")),
    "dict_type": ("NOT_OBJECT", _fixed("应为 JSON 对象")),
    "list_type": ("NOT_LIST", _fixed("应为列表")),
    "value_error": ("INVALID", _fixed("取值不符合要求")),
}

_PLACES = {"query": "查询参数", "path": "路径参数", "body": "请求体", "header": "请求头"}


def problem(error: Mapping[str, Any]) -> Problem:
    """One of pydantic's (or FastAPI's) validation errors as an API problem."""
    loc: Sequence[Any] = error.get("loc", ())
    place = str(loc[0]) if loc else "body"
    field = ".".join(str(p) for p in loc[1:])
    code, reason = _RULES.get(str(error.get("type", "")), ("INVALID", _fixed("取值不符合要求")))
    return {"in": place, "field": field, "code": code, "reason": reason(error.get("ctx") or {})}


def summary(problems: Sequence[Problem]) -> str:
    """The envelope's one-line Chinese message: the first problem named, and how many more."""
    if not problems:
        return "请求参数有误"
    first = problems[0]
    where = first["field"] or _PLACES.get(first["in"], "请求")
    more = f"（另有 {len(problems) - 1} 处问题）" if len(problems) > 1 else ""
    return f"参数有误：{where} {first['reason']}{more}"

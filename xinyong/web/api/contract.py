"""The API's contract as the OpenAPI document states it (issue 11, item 8): the error body
every refusal carries, which answers each operation may give, who must authenticate and how.

Routes declare their contract with one of ``public``, ``token`` or ``token_or_session``
(security requirement plus error answers) and the error statuses particular to them;
`install` adds the security schemes to the document. The fuzz test
(``tests/web/test_openapi_fuzz.py``) holds the server to this document."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from xinyong.catalog.loader import Catalog
from xinyong.measures.catalog import Measures, load_measures, measures_dir

BEARER = "bearer"
SESSION = "session"

ERROR_CODE = r"^[A-Z][A-Z0-9_]*$"


class Problem(BaseModel):
    """One problem of a request that failed validation."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    in_: str = Field(
        alias="in",
        json_schema_extra={"enum": ["query", "path", "body", "header", "cookie"]},
        description="问题所在：query 查询参数、path 路径参数、body 请求体、header 请求头",
    )
    field: str = Field(description="字段路径，列表位置以数字表示，如 items.0.action_date")
    code: str = Field(pattern=ERROR_CODE, description="稳定的问题代码，如 MISSING、TOO_LONG")
    reason: str = Field(description="中文说明")


class ErrorBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=ERROR_CODE, description="稳定的错误代码，程序据此判断")
    message: str = Field(min_length=1, description="给人看的中文说明")
    problems: list[Problem] | None = Field(
        None, description="参数校验失败（REQUEST_INVALID）时逐项列出的问题"
    )


class ErrorEnvelope(BaseModel):
    """Every 4xx and 5xx answer of the API."""

    model_config = ConfigDict(extra="forbid")

    error: ErrorBody


_RETRY_AFTER = {
    "Retry-After": {"description": "多少秒后可以重试", "schema": {"type": "integer", "minimum": 0}}
}

_MEANING: dict[int, tuple[str, dict[str, Any]]] = {
    400: ("请求不符合业务规则（错误代码说明原因）", {}),
    401: (
        "未提供令牌、令牌无效或已吊销，或本操作须登录",
        {
            "WWW-Authenticate": {
                "description": 'Bearer realm="xinyong"',
                "required": True,
                "schema": {"type": "string"},
            }
        },
    ),
    403: ("当前账号无权进行此操作", {}),
    404: ("所指对象不存在（或对当前账号不可见）", {}),
    409: ("与当前状态冲突（如已办结、已存在）", {}),
    413: ("请求内容超过本接口的上限", {}),
    422: ("参数校验失败（REQUEST_INVALID，problems 逐项说明）或文件无法受理", {}),
    429: ("请求过于频繁", _RETRY_AFTER),
    503: ("数据库正忙（另一批次正在入库），请稍后重试", _RETRY_AFTER),
}


def _iso_day(value: Any) -> Any:
    # pydantic reads a number as a Unix time ("2.2e-309" is 1970-01-01); a day is YYYY-MM-DD
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not ISO_DAY.fullmatch(value):
        raise PydanticCustomError("date_parsing", "应为日期（YYYY-MM-DD）")
    return value


ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
# A day as the document says it (format: date), nothing else.
Day = Annotated[date, BeforeValidator(_iso_day)]


async def known_query_only(request: Request) -> None:
    """A query parameter the operation does not take is refused (422 ``UNKNOWN_FIELD``), not
    ignored: a misspelt ``szie=5`` must not silently read the default page size. Async (it
    only reads the request), so that FastAPI runs it on the event loop instead of handing
    every API request to a worker thread and back once more before its route."""
    route = request.scope.get("route")
    if not isinstance(route, APIRoute):
        return
    known = {p.alias for p in route.dependant.query_params}
    unknown = sorted({k for k in request.query_params if k not in known})
    if unknown:
        raise RequestValidationError(
            [
                {"type": "extra_forbidden", "loc": ("query", name), "msg": "", "input": None}
                for name in unknown
            ]
        )


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of an operation, each with the error envelope as its body."""
    out: dict[int | str, dict[str, Any]] = {}
    for status in sorted(set(statuses)):
        description, headers = _MEANING[status]
        out[status] = {"model": ErrorEnvelope, "description": description}
        if headers:
            out[status]["headers"] = headers
    return out


# Every operation reads an optional bearer header (a malformed or revoked one is a 401), validates
# its parameters (422), and may find the database busy when it writes (503).
_ANY = (401, 422, 503)


def _file(media_types: tuple[str, ...]) -> dict[int | str, dict[str, Any]]:
    """A 200 answer that is a file (the route's ``response_class`` is a plain ``Response``)."""
    if not media_types:
        return {}
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {200: {"description": "文件", "content": {m: binary for m in media_types}}}


def public(*statuses: int, files: tuple[str, ...] = ()) -> dict[str, Any]:
    """Open to anyone; a department system's token, when sent, may see more."""
    return {
        "responses": _file(files) | errors(*_ANY, *statuses),
        "openapi_extra": {"security": [{}, {BEARER: []}]},
    }


def token(*statuses: int, files: tuple[str, ...] = ()) -> dict[str, Any]:
    """Only with an account's token (``Authorization: Bearer …``); a role the operation is not
    for is refused (403)."""
    return {
        "responses": _file(files) | errors(*_ANY, 403, *statuses),
        "openapi_extra": {"security": [{BEARER: []}]},
    }


def token_or_session(*statuses: int) -> dict[str, Any]:
    """A department system's token, or a subject's logged-in browser session (writes then carry
    the session's CSRF token in ``X-CSRF-Token``)."""
    return {
        "responses": errors(*_ANY, 403, *statuses),
        "openapi_extra": {"security": [{BEARER: []}, {SESSION: []}]},
    }


def writes(*statuses: int) -> tuple[int, ...]:
    """The extra answers of an operation with a request body: too large (413)."""
    return (413, *statuses)


# Values the server checks against the catalogue, which is data (an operator may add a dataset or
# a matter): the document states the ones of the catalogue the application was started with.
# Parameter or body field name -> which catalogue values it takes.
CATALOGUE_FIELDS = {
    "dataset": "datasets",
    "matter": "matters",
    "list_kind": "list_kinds",
}
# Where a field takes other values than its name says: a delivery's dataset by code or by name;
# a prior notice only for a list dataset.
CATALOGUE_OVERRIDES = {
    ("Body_create_batch_api_v1_batches_post", "dataset"): "datasets_or_names",
    ("NoticeRequest", "dataset"): "list_datasets",
}


def catalogue_values(catalog: Catalog, measures: Measures) -> dict[str, list[str]]:
    kinds = catalog.lists.kinds.values()
    return {
        "datasets": sorted(catalog.datasets),
        "datasets_or_names": sorted(catalog.datasets) + [d.name for d in catalog.datasets.values()],
        "list_datasets": sorted({k.dataset for k in kinds}),
        "matters": [m.code for m in measures.matters.values() if not m.retired],
        "list_kinds": sorted(k.code for k in kinds),
    }


def _set_enum(schema: dict[str, Any], values: list[str]) -> None:
    """The enumeration on the string branch of a (possibly nullable) schema."""
    for branch in schema.get("anyOf", [schema]):
        if branch.get("type") == "string":
            branch.pop("pattern", None)
            branch.pop("maxLength", None)
            branch.pop("minLength", None)
            branch["enum"] = values


def _catalogue_enums(document: dict[str, Any], values: dict[str, list[str]]) -> None:
    for path in document.get("paths", {}).values():
        for operation in path.values():
            for parameter in operation.get("parameters", []):
                source = CATALOGUE_FIELDS.get(parameter["name"])
                if source and parameter["in"] == "query":
                    _set_enum(parameter["schema"], values[source])
    # request bodies only: an answer may name a field alike (a dataset's ``list_kind`` colour)
    bodies = {
        ref.rsplit("/", 1)[-1]
        for path in document.get("paths", {}).values()
        for operation in path.values()
        for media in operation.get("requestBody", {}).get("content", {}).values()
        for ref in [media.get("schema", {}).get("$ref", "")]
        if ref
    }
    schemas = document.get("components", {}).get("schemas", {})
    for model in bodies:
        for field, prop in schemas[model].get("properties", {}).items():
            source = CATALOGUE_OVERRIDES.get((model, field)) or CATALOGUE_FIELDS.get(field)
            if source:
                _set_enum(prop, values[source])


def app_measures(state: Any) -> Measures:
    """The measures list of an application (``app.state``), loaded once: catalogue data."""
    if getattr(state, "measures", None) is None:
        state.measures = load_measures(measures_dir(state.catalog), state.catalog)
    measures: Measures = state.measures
    return measures


def install(app: FastAPI) -> None:
    """Serve the document with the security schemes the operations name and the catalogue's
    values where the server checks against them."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = get_openapi(
                title=app.title,
                version=app.version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
            )
            components = schema.setdefault("components", {})
            components["securitySchemes"] = {
                BEARER: {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "账号的接口令牌（xinyong accounts token 签发），"
                    "放在请求头 Authorization: Bearer 令牌",
                },
                SESSION: {
                    "type": "apiKey",
                    "in": "cookie",
                    "name": "xinyong_session",
                    "description": "信用主体在网站登录后的会话；"
                    "写操作须在 X-CSRF-Token 请求头带上会话的 CSRF 令牌",
                },
            }
            _catalogue_enums(schema, catalogue_values(app.state.catalog, app_measures(app.state)))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def open_to_all() -> dict[str, Any]:
    """Reads nothing of the caller: no token is looked at, no parameter taken."""
    return {"openapi_extra": {"security": [{}]}}

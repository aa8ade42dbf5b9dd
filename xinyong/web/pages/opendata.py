"""The open-data page (开放数据): the current daily build's files per dataset, with sizes,
checksums, the data dictionary and the licence; each file downloads from the build it belongs
to. Built by ``xinyong daily`` (``opendata.build``); anyone may read."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, Response

from xinyong.errors import NotFound
from xinyong.opendata.build import latest, statement
from xinyong.web.deps import page
from xinyong.web.render import render

router = APIRouter()

_FILE = re.compile(r"^[A-Za-z0-9_.-]{1,80}$")
_TYPES = {
    ".csv": "text/csv; charset=utf-8",
    ".jsonl": "application/x-ndjson; charset=utf-8",
    ".parquet": "application/vnd.apache.parquet",
    ".json": "application/json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}


def _folder(request: Request) -> Path:
    return Path(request.app.state.settings.data_dir) / "opendata"


@router.get("/open-data")
def open_data(request: Request) -> Response:
    with page(request) as ctx:
        index = latest(_folder(request))
        by_dataset: dict[str, list[dict[str, object]]] = {}
        if index:
            for f in index["files"]:
                by_dataset.setdefault(f["dataset"] or "", []).append(f)
        return render(
            request,
            "opendata.html",
            {
                "index": index,
                "by_dataset": by_dataset,
                "said": statement(ctx.catalog.root),
            },
        )


@router.get("/open-data/files/{name}")
def download(request: Request, name: str) -> Response:
    index = latest(_folder(request))
    known = {f["file"] for f in index["files"]} | {"SHA256SUMS", "index.json"} if index else set()
    if index is None or not _FILE.match(name) or name not in known:
        raise NotFound("OPENDATA_FILE_NOT_FOUND", "没有这个开放数据文件")
    path = _folder(request) / index["folder"] / name
    if not path.is_file():
        raise NotFound("OPENDATA_FILE_NOT_FOUND", "没有这个开放数据文件")
    media = _TYPES.get(path.suffix, "text/plain; charset=utf-8")
    return FileResponse(path, media_type=media, filename=f"{index['as_of']}-{name}")

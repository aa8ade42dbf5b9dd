"""What the access log may hold: never an ID number (issue 11, item 7; PIPL art. 51).

uvicorn's access logger (``uvicorn.access``) writes the request line with its query string,
where a name search or a check carries whatever was typed, a full 身份证号 included. This
filter, installed by ``create_app`` on that logger whichever way the application is served,
keeps the parameter names and drops their values, and blanks an ID-number-like run of digits
in the path itself.
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qsl

ACCESS_LOGGER = "uvicorn.access"
_ID_LIKE = re.compile(r"(?<![0-9])[0-9]{15}(?:[0-9]{2}[0-9Xx])?(?![0-9A-Za-z])")
REDACTED = "*"


def redact_target(target: str) -> str:
    """``/path?q=4109…&page=2`` as ``/path?q=*&page=*``; ID-number-like runs in the path too."""
    path, sep, query = target.partition("?")
    path = _ID_LIKE.sub(REDACTED, path)
    if not sep:
        return path
    names = [name for name, _ in parse_qsl(query, keep_blank_values=True)]
    return path + "?" + "&".join(f"{_ID_LIKE.sub(REDACTED, n)}={REDACTED}" for n in names)


class RedactQueries(logging.Filter):
    """uvicorn logs ``'%s - "%s %s HTTP/%s" %d'`` with the target as the third argument."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            record.args = (*args[:2], redact_target(args[2]), *args[3:])
        return True


def install_redaction() -> None:
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, RedactQueries) for f in logger.filters):
        logger.addFilter(RedactQueries())

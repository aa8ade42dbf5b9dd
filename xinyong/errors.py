"""Domain errors. Each carries a stable machine code and a Chinese message; no HTTP codes here."""

from __future__ import annotations


class XinyongError(Exception):
    """Base of every error the platform reports to a user."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message}


class CatalogError(XinyongError):
    """The catalogue is broken, or names something it does not hold."""


class FileRefused(XinyongError):
    """A delivered file cannot be read at all; nothing of it is stored (exit status 2)."""


class NotFound(XinyongError):
    """The subject, record or batch asked for does not exist."""


class NotAllowed(XinyongError):
    """The acting principal may not do this."""


class Conflict(XinyongError):
    """The change collides with what is stored (e.g. linking onto a taken key)."""


class Busy(XinyongError):
    """The database's one writer is taken (a delivery is being ingested) for longer than the
    bounded wait: nothing was changed; try again shortly (web 503, command line exit 3)."""

    retry_after = 10

    def __init__(
        self, code: str = "DB_BUSY", message: str = "另一批次正在入库，请稍后重试"
    ) -> None:
        super().__init__(code, message)

"""Every table of the platform, imported so that ``metadata`` is complete (Alembic, tests)."""

from xinyong.accounts import models as accounts
from xinyong.audit import models as audit
from xinyong.batches import models as batches
from xinyong.db import metadata
from xinyong.records import models as records
from xinyong.subjects import models as subjects

__all__ = ["accounts", "audit", "batches", "metadata", "records", "subjects"]

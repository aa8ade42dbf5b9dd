"""Every table of the platform, imported so that ``metadata`` is complete (Alembic, tests)."""

from xinyong.accounts import models as accounts
from xinyong.assessment import models as assessment  # noqa: F401
from xinyong.audit import models as audit
from xinyong.batches import models as batches
from xinyong.cases import models as cases  # noqa: F401
from xinyong.checks import models as checks
from xinyong.db import metadata
from xinyong.departments import models as departments
from xinyong.evaluation import models as evaluation  # noqa: F401
from xinyong.exchange import models as exchange  # noqa: F401
from xinyong.lists import models as lists
from xinyong.notifications import models as notifications  # noqa: F401
from xinyong.records import models as records
from xinyong.reports import models as reports  # noqa: F401
from xinyong.subjects import models as subjects
from xinyong.web import models as web  # noqa: F401

__all__ = [
    "accounts",
    "audit",
    "batches",
    "checks",
    "departments",
    "lists",
    "metadata",
    "records",
    "subjects",
]

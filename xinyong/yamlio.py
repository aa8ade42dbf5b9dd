"""YAML read with libyaml's C parser where the installed PyYAML has it.

The pure-Python parser cost ≈ 1.6 s of every start-up that loads the catalogue (issue 13,
item 5); ``CSafeLoader`` builds the same objects with the same safe constructors, so the
result does not depend on which one ran. Every YAML file the platform reads goes through here.
"""

from __future__ import annotations

from typing import Any

import yaml

# CSafeLoader exists only when PyYAML was built against libyaml (the manylinux wheels are).
SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def safe_load(text: str) -> Any:
    """``yaml.safe_load``, with the C parser where present."""
    return yaml.load(text, Loader=SafeLoader)

"""Signatures of webhook pushes (推送签名), and how a receiving department checks them.

``X-Xinyong-Signature: sha256=<hex HMAC-SHA256 of "timestamp.body">`` with the endpoint's
secret, where ``timestamp`` is the ``X-Xinyong-Timestamp`` header (Unix seconds) and ``body``
the exact bytes received. Signing the timestamp with the body lets a receiver refuse a captured
push replayed later.
"""

from __future__ import annotations

import hashlib
import hmac
import time

SIGNATURE_HEADER = "X-Xinyong-Signature"
TIMESTAMP_HEADER = "X-Xinyong-Timestamp"
EVENT_ID_HEADER = "X-Xinyong-Event-Id"


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(
    secret: str,
    timestamp: str,
    body: bytes,
    signature: str,
    *,
    now: float | None = None,
    tolerance_seconds: int = 300,
) -> bool:
    """What a consumer does with a push: the signature matches and the timestamp is recent
    (a captured push replayed later is refused)."""
    try:
        sent = int(timestamp)
    except ValueError:
        return False
    # the receiving system's own clock unless told otherwise
    current = time.time() if now is None else now
    if abs(current - sent) > tolerance_seconds:
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), signature)

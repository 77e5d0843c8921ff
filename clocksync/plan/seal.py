"""The plan's seal: an HMAC that only the holder of the API key can make.

A plan carries two digests of its canonical JSON body:

- ``checksum``: SHA-256, the plan's name (run folders, the audit CSV, ``history``) and a guard
  against accidental damage; anyone can recompute it.
- ``seal``: HMAC-SHA256 under a key derived from the API key and the workspace id
  (``SealKey.derive``). Someone who edits a plan and recomputes the checksum cannot recompute the
  seal without the API key, so ``apply`` refuses the plan. The seal key is not the API key and
  the seal does not reveal it (HMAC; Clockify's keys are long random strings).

A plan is applied with the key it was made with: a plan made with another key (a colleague's, a
rotated one) does not verify either, and is made again.
"""

from __future__ import annotations

import hashlib
import hmac

SEAL_PREFIX = "hmac-sha256:"
_CONTEXT = b"clocksync plan seal v1\x00"


class SealKey:
    """The key of the plan seal for one API key and workspace. Its repr hides it."""

    __slots__ = ("_key",)

    def __init__(self, key: bytes) -> None:
        self._key = key

    @classmethod
    def derive(cls, api_key: str, workspace_id: str) -> SealKey:
        """HMAC-SHA256(api key, context || workspace id): a key of its own, for this use only."""
        return cls(hmac.new(api_key.encode("utf-8"), _CONTEXT + workspace_id.encode("utf-8"), hashlib.sha256).digest())

    def __repr__(self) -> str:
        return "SealKey(<hidden>)"

    def seal(self, body: bytes) -> str:
        return SEAL_PREFIX + hmac.new(self._key, body, hashlib.sha256).hexdigest()

    def verifies(self, body: bytes, seal: str) -> bool:
        """Whether ``seal`` was made with this key over ``body`` (constant-time comparison)."""
        return hmac.compare_digest(self.seal(body).encode(), seal.encode("utf-8", errors="replace"))


__all__ = ["SEAL_PREFIX", "SealKey"]

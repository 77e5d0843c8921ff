"""The one rule for what counts as a write: anything but a GET, except ``POST users/info`` (a search)."""

from __future__ import annotations


def is_write(method: str, path: str) -> bool:
    return method.upper() != "GET" and not path.rstrip("/").endswith("/users/info")

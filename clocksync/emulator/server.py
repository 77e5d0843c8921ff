"""Serving the emulator over real HTTP with uvicorn, with optional persistence to a state file."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import uvicorn

from clocksync.emulator.app import API, DroppedConnection, Emulator, EmulatorOptions
from clocksync.emulator.demo import demo_workspace
from clocksync.emulator.state import WorkspaceState

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeInfo:
    """What a user pastes into a shell to point clocksync at the emulator."""

    base_url: str
    api_key: str
    workspace_id: str

    def export_lines(self) -> list[str]:
        return [
            f"export CLOCKIFY_BASE_URL={self.base_url}",
            f"export CLOCKIFY_API_KEY={self.api_key}",
            f"export CLOCKIFY_WORKSPACE_ID={self.workspace_id}",
        ]


def load_or_create(state_file: Path | None, api_key: str | None) -> tuple[WorkspaceState, str]:
    """The saved workspace when the file exists, else the demo workspace (saved there if given)."""
    if state_file is not None and state_file.exists():
        state = WorkspaceState.load(state_file)
        if api_key:
            state.ws.api_keys[api_key] = state.ws.owner_id
            return state, api_key
        owner_keys = [k for k, uid in state.ws.api_keys.items() if uid == state.ws.owner_id]
        if owner_keys:
            return state, owner_keys[0]
        key = secrets.token_urlsafe(24)
        state.ws.api_keys[key] = state.ws.owner_id
        return state, key
    state, key = demo_workspace(api_key)
    if state_file is not None:
        state.save(state_file)
    return state, key


async def _autosave(state: WorkspaceState, path: Path, every: float = 0.5) -> None:
    while True:
        await asyncio.sleep(every)
        if state.dirty:
            with state.lock:
                state.save(path)


def build_server(
    emulator: Emulator, host: str, port: int, state_file: Path | None, log_level: str = "warning",
    save_every: float = 0.5,
) -> uvicorn.Server:
    """A uvicorn server for the emulator; with a state file, changes are saved every ``save_every``
    seconds (0: only at shutdown) and at shutdown."""
    app = emulator.app
    if state_file is not None:
        @contextlib.asynccontextmanager
        async def lifespan(_: object) -> AsyncIterator[None]:
            task = asyncio.create_task(_autosave(emulator.state, state_file, save_every)) if save_every > 0 else None
            try:
                yield
            finally:
                if task is not None:
                    task.cancel()
                if emulator.state.dirty:
                    emulator.state.save(state_file)

        app.router.lifespan_context = lifespan
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    logging.getLogger("uvicorn.error").addFilter(_quiet_drops)
    return uvicorn.Server(config)


def _quiet_drops(record: logging.LogRecord) -> bool:
    """Injected dropped connections are on purpose: no traceback for them in the server log."""
    return not (record.exc_info and isinstance(record.exc_info[1], DroppedConnection))


def base_url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}{API}"


__all__ = ["Emulator", "EmulatorOptions", "ServeInfo", "base_url", "build_server", "load_or_create"]

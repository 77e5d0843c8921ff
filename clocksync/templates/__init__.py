"""Starter files that `clocksync init` writes: a commented config.yaml and a .env.example."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from clocksync.errors import InputError
from clocksync.files import write_private

TEMPLATES = {"config.yaml": "config.yaml", ".env.example": "env.example"}


def write_templates(directory: Path, *, force: bool = False) -> list[Path]:
    """Write the starter files into ``directory``; refuse to overwrite unless ``force``.

    Raises InputError naming the files that exist.
    """
    targets = {directory / name: source for name, source in TEMPLATES.items()}
    existing = [str(p) for p in targets if p.exists()]
    if existing and not force:
        raise InputError(f"not overwriting {', '.join(existing)} (use --force)")
    for path, source in targets.items():
        write_private(path, files("clocksync.templates").joinpath(source).read_text(encoding="utf-8"))
    return list(targets)

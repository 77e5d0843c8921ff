"""The plan file: versioned JSON of typed actions, with a checksum and a keyed seal.

A plan holds the workspace id and the API host it was made against, fingerprints of its inputs
(sha256 of the CSV and config), the options it was made with, the safety thresholds it was
checked against, the actions, a summary and the notices. No secrets, and personal data limited
to what a reviewer needs (emails, names of groups). ``checksum`` (SHA-256) names the plan and
catches damage; ``seal`` (an HMAC only the holder of the API key can make, ``plan/seal.py``) is
what ``apply`` requires. The JSON Schema of this format is ``Plan.model_json_schema()``
(published as ``docs/plan.schema.json``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import TypeAdapter, ValidationError

from clocksync import __version__
from clocksync.config import SafetyConfig
from clocksync.errors import PlanFileError
from clocksync.files import read_input, write_private
from clocksync.kinds import Action, AnyAction
from clocksync.kinds.base import Shown
from clocksync.model import CleanedCell, name_key
from clocksync.plan.diff import Diff
from clocksync.plan.seal import SealKey
from clocksync.plan.summary import summarize
from clocksync.plan.types import (
    Frozen,
    Handover,
    HeldException,
    Notice,
    PlanOptions,
    ProtectedGroup,
    Summary,
    Upcoming,
    WorkspaceFigures,
)

FORMAT = "clocksync-plan"
FORMAT_VERSION = 3


class InputFingerprint(Frozen):
    path: str
    sha256: str
    sheet: str | None = None  # the worksheet read, for a workbook (the first visible one, or csv.sheet)


class Plan(Frozen):
    format: Literal["clocksync-plan"] = "clocksync-plan"
    format_version: Literal[3] = 3
    tool_version: str = __version__
    created_at: str
    workspace_id: str
    api_host: str  # where the plan was read from (host[:port]); apply refuses another
    purpose: Literal["sync", "undo"] = "sync"
    inputs: dict[str, InputFingerprint]
    options: PlanOptions
    safety: SafetyConfig = SafetyConfig()  # the thresholds the plan was checked against
    figures: WorkspaceFigures
    summary: Summary
    notices: tuple[Notice, ...] = ()
    exceptions: tuple[HeldException, ...] = ()  # the per-user exceptions that held, with their reasons
    upcoming: tuple[Upcoming, ...] = ()  # CSV rows that start after as_of: not provisioned yet
    handovers: tuple[Handover, ...] = ()  # for each deactivation: what the leaver manages, and who inherits it
    protected_groups: tuple[ProtectedGroup, ...] = ()
    unmatched_users: tuple[str, ...] = ()
    sensitive_fields: tuple[str, ...] = ()  # custom fields whose values reports hide (rates always are)
    cleaned: tuple[CleanedCell, ...] = ()  # cells of the users file read differently from their bytes (what was removed)
    actions: tuple[AnyAction, ...] = ()
    checksum: str = ""  # sha256 of the body: the plan's name, and a guard against damage
    seal: str = ""  # HMAC of the body under a key only the API key's holder can derive (plan/seal.py)

    @property
    def destructive_actions(self) -> list[Action]:
        return [a for a in self.actions if a.destructive]

    @property
    def has_changes(self) -> bool:
        return bool(self.actions)

    @property
    def source(self) -> str:
        """What the plan was made from, for its header: the CSV, or the run an undo plan reverses."""
        if self.purpose == "undo" and "run" in self.inputs:
            return f"run {self.inputs['run'].path} (undo)"
        found = self.inputs.get("csv")
        if found is None:
            return "-"
        return f"{found.path} (sheet {found.sheet!r})" if found.sheet else found.path

    @property
    def made_from(self) -> str:
        """The inputs, for the header: the CSV and the config it was read with (or the run an undo reverses)."""
        config = self.inputs.get("config")
        if config is None:
            return self.source
        used = "the defaults (no config file)" if config.path == "(defaults)" else config.path
        return f"{self.source} with config {used}"

    @property
    def header_facts(self) -> list[str]:
        """What a reviewer must know before reading the actions: the plan's day, its scope."""
        facts = [f"for {self.options.as_of}"] if self.options.as_of else []
        if self.options.scoped:
            facts.append(f"scoped: {self.options.scope_text()}")
        return facts

    def shown(self, reveal: bool = False) -> Shown:
        """What reports of this plan show of sensitive values (every value with ``reveal``)."""
        return Shown(reveal=reveal, fields=frozenset(name_key(f) for f in self.sensitive_fields))

    def handover_of(self, email: str) -> Handover | None:
        return next((h for h in self.handovers if h.email == email), None)

    @property
    def title(self) -> str:
        return "clocksync undo plan" if self.purpose == "undo" else "clocksync plan"

    @property
    def short_checksum(self) -> str:
        return self.checksum.removeprefix("sha256:")[:12]

    def body(self) -> bytes:
        """The canonical JSON of everything but the checksum and the seal: what both cover."""
        return _canonical(self.model_dump(mode="json", exclude={"checksum", "seal"}))

    def body_checksum(self) -> str:
        return "sha256:" + hashlib.sha256(self.body()).hexdigest()

    def sealed(self, key: SealKey) -> Plan:
        """The plan with its checksum and its seal under ``key``."""
        body = self.body()
        return self.model_copy(update={"checksum": "sha256:" + hashlib.sha256(body).hexdigest(),
                                       "seal": key.seal(body)})

    def seal_verifies(self, key: SealKey) -> bool:
        """Whether the plan was sealed with ``key`` and not changed since."""
        return bool(self.seal) and key.verifies(self.body(), self.seal)


def verify_seal(plan: Plan, key: SealKey, where: str = "the plan") -> None:
    """Raise PlanFileError unless ``plan`` carries its seal under ``key``."""
    if not plan.seal_verifies(key):
        raise PlanFileError(f"{where}: the seal does not match: the plan was changed after it was made, or made "
                            "with another API key (a plan is applied with the key that made it); nothing was "
                            "applied; make a new plan")


def _canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def build_plan(
    found: Diff,
    *,
    workspace_id: str,
    inputs: dict[str, InputFingerprint],
    options: PlanOptions,
    created_at: str,
    api_host: str,
    seal_key: SealKey,
    safety: SafetyConfig | None = None,
    purpose: Literal["sync", "undo"] = "sync",
    cleaned: Sequence[CleanedCell] = (),
) -> Plan:
    """Seal the differ's result into a plan (``seal_key``: see ``plan/seal.py``); ``cleaned``: the
    cells of the users file that were read differently from their bytes (``DesiredState.cleaned``)."""
    plan = Plan(
        safety=safety or SafetyConfig(),
        created_at=created_at,
        workspace_id=workspace_id,
        api_host=api_host,
        purpose=purpose,
        inputs=inputs,
        options=options,
        figures=found.figures,
        summary=summarize(found.actions),
        notices=tuple(found.notices),
        exceptions=tuple(found.exceptions),
        upcoming=tuple(found.upcoming),
        handovers=tuple(found.handovers),
        protected_groups=tuple(found.protected),
        unmatched_users=tuple(found.unmatched),
        sensitive_fields=tuple(found.sensitive_fields),
        cleaned=tuple(cleaned),
        actions=tuple(found.actions),
    )
    return plan.sealed(seal_key)


def save_plan(plan: Plan, path: Path) -> None:
    """Write the plan owner-only, atomically and never through a symlink (``files.write_private``).

    Raises FileError."""
    write_private(path, plan.model_dump_json(indent=2) + "\n")


_PLAN = TypeAdapter(Plan)


def load_plan(path: Path) -> Plan:
    """Read a plan and verify its format and checksum. Raises PlanFileError.

    The seal needs the API key: ``verify_seal`` checks it (``apply`` always does)."""
    try:
        raw = read_input(path).decode("utf-8")
    except OSError as exc:
        raise PlanFileError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise PlanFileError(f"{path}: not a UTF-8 text file") from None
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise PlanFileError(f"{path}: line {exc.lineno}: not valid JSON ({exc.msg}); is the file truncated?") from None
    except ValueError:  # Python reads no integer of more than 4,300 digits
        raise PlanFileError(f"{path}: a number too long to read (over 4,300 digits): the plan was edited or is "
                            "damaged; make a new plan") from None
    except RecursionError:
        raise PlanFileError(f"{path}: JSON nested too deep to be a plan") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise PlanFileError(f"{path}: not a clocksync plan")
    if data.get("format_version") != FORMAT_VERSION:
        raise PlanFileError(f"{path}: plan format version {data.get('format_version')!r} is not supported "
                            f"(this clocksync reads version {FORMAT_VERSION}); make a new plan")
    try:
        plan = _PLAN.validate_python(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise PlanFileError(f"{path}: key {where}: {first['msg']} (the plan was edited or is damaged)") from None
    if plan.checksum != plan.body_checksum():
        raise PlanFileError(f"{path}: checksum mismatch: the plan was changed after it was made; make a new plan")
    return plan

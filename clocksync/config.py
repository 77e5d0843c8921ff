"""``config.yaml`` -> frozen, validated settings (ruamel.yaml + pydantic).

The original tool's config loads unchanged; every other key has a default. Unknown keys, wrong
types and invalid YAML are a ``ConfigError`` naming the file, the key and its line.

A kind adds its own keys without this module knowing it: it declares a ``ConfigKey`` (a ``csv:``
key such as ``csv.hourly_rate_column``, or a top-level key such as ``group_rules``), which joins
the validated model (``config_model``: the same errors with key and line), reads it back typed
with ``config.value(key)``, and may add an exception keyword (``exception_keyword``).
"""

from __future__ import annotations

import functools
import hashlib
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Generic, Literal, TypeVar, cast

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    create_model,
    field_validator,
)
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError
from ruamel.yaml.events import AliasEvent, ScalarEvent

from clocksync.errors import ConfigError
from clocksync.files import read_input
from clocksync.load.cells import CellError, clean_email
from clocksync.model import name_key
from clocksync.names import GROUP_NAME_LIMIT, api_length
from clocksync.sanitize import visible


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def config_email(value: str, *, required: bool = True) -> str:
    """An email in the config read as an email cell is (``load.cells.clean_email``): ``mailto:``,
    ``Name <addr>``, invisible characters and spaces removed; an address that is not what it looks
    like (a Cyrillic ``о``, a control character, two addresses) refused. For a pydantic validator:
    raises ValueError, which ``load_config`` reports with the key and its line."""
    try:
        text = clean_email(str(value)).text
    except CellError as exc:
        raise ValueError(str(exc)) from None
    if required and not text:
        raise ValueError("must be an email address (it is blank)")
    return text


ConfigEmail = Annotated[str, AfterValidator(config_email)]  # an email in a list: errors name its index and line


class WorkspaceConfig(_Section):
    fallback_manager_email: str = ""
    fallback_group_name: str = "Other functions"
    protected_groups: tuple[str, ...] = ()  # group names never written, besides holiday/policy/country groups
    never_deactivate: tuple[ConfigEmail, ...] = ()  # emails kept active whatever the CSV says

    @field_validator("fallback_manager_email")
    @classmethod
    def _email(cls, value: str) -> str:
        return config_email(value, required=False)


    @field_validator("fallback_group_name")
    @classmethod
    def _group_name(cls, value: str) -> str:
        value = unicodedata.normalize("NFC", value.strip())  # as names are sent (names.fit_name)
        if not value:
            raise ValueError("must not be blank")
        if api_length(value) > GROUP_NAME_LIMIT:
            units = api_length(value)
            why = "" if units == len(value) else (f" ({len(value)} characters; Clockify counts UTF-16 units, so a "
                                                  "character such as most emoji counts two)")
            raise ValueError(f"is {units} units long{why}; Clockify's group names hold at most {GROUP_NAME_LIMIT}")
        return value


class CsvConfig(_Section):
    email_column: str = "NTID email"
    manager_column: str = "Manager NTID email"
    hours_column: str = "Weekly Working Hours"
    country_column: str = "Country (Label)"
    start_column: str = "Start Date"  # optional column: a user is provisioned from this day
    end_column: str = "End Date"  # optional column: a user is a leaver after this day
    # Dates are ISO (2027-03-31); "day-first" also reads 31.03.2027 and 31/03/2027, "month-first" 03/31/2027.
    date_order: Literal["iso", "day-first", "month-first"] = "iso"
    delimiter: str = "auto"  # "auto" sniffs "," or ";" (a first line "sep=;" written by Excel wins)
    sheet: str = ""  # the worksheet of an .xlsx users file; "" is the first sheet

    @field_validator("delimiter")
    @classmethod
    def _delimiter(cls, value: str) -> str:
        if value not in ("auto", ",", ";", "\t", "|"):
            raise ValueError('must be "auto", ",", ";", "|" or a tab')
        return value


class GroupsConfig(_Section):
    name_template: str = "{display_name}"  # placeholders: {display_name}, {name}, {email}

    @field_validator("name_template")
    @classmethod
    def _template(cls, value: str) -> str:
        fields = {f for _, f, _, _ in string.Formatter().parse(value) if f is not None}
        unknown = fields - {"display_name", "name", "email"}
        if unknown or not fields:
            raise ValueError("must use {display_name}, {name} or {email} and nothing else")
        return value


class SafetyConfig(_Section):
    max_deactivation_share: float = Field(0.25, ge=0, le=1)
    min_deactivation_count: int = Field(5, ge=1)
    max_group_deletion_share: float = Field(0.25, ge=0, le=1)
    min_group_deletion_count: int = Field(5, ge=1)
    max_membership_removal_share: float = Field(0.5, ge=0, le=1)
    min_membership_removal_count: int = Field(20, ge=1)
    min_csv_share: float = Field(0.5, ge=0, le=1)  # CSV rows vs members it would manage: below = truncated?
    max_field_change_share: float = Field(0.25, ge=0, le=1)  # users whose one field (or capacity) is overwritten
    min_field_change_count: int = Field(10, ge=1)


class ApiConfig(_Section):
    # "auto" (the default): start at Clockify's documented paid-plan limit (50) and follow the limit
    # the server enforces; a number fixes the rate.
    requests_per_second: Annotated[float, Field(gt=0, le=1000)] | Literal["auto"] = "auto"
    page_size: int = Field(1000, ge=1, le=5000)
    concurrency: int = Field(16, ge=1, le=64)  # requests in flight: rate x latency (50/s x 0.2 s = 10)
    timeout_seconds: float = Field(30.0, gt=0)
    max_attempts: int = Field(8, ge=1, le=20)


class ApplyConfig(_Section):
    retry_budget_seconds: float = Field(900.0, gt=0)  # how long a run keeps settling transient failures
    consistency_window_seconds: float = Field(30.0, ge=0)  # refusals on objects created moments earlier
    max_plan_age_hours: float = Field(72.0, gt=0)  # an older plan is refused unless --allow-old-plan


class InviteConfig(_Section):
    missing_users: bool = False  # invite CSV users who are not in the workspace
    send_email: bool = True


EXCEPTION_KEYWORDS = ["capacity", "fields", "manager", "deactivation"]  # kinds add theirs (exception_keyword)


def exception_keyword(word: str) -> str:
    """Declare what ``exceptions[].ignore`` may name for a kind's values (e.g. ``rates``)."""
    if word not in EXCEPTION_KEYWORDS:
        EXCEPTION_KEYWORDS.append(word)
    return word


T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True)
class ConfigKey(Generic[T_co]):
    """A config key a kind declares: ``csv.<name>`` (``section="csv"``) or top-level ``<name>``.

    ``annotation`` is what pydantic validates the value as (a model, an Annotated type); the key
    joins ``config_model`` once the kinds are imported. Read it with ``config.value(key)``.
    """

    name: str
    annotation: Any
    default: T_co
    section: Literal["csv"] | None = None


CONFIG_KEYS: list[ConfigKey[Any]] = []


def config_key(name: str, annotation: Any, default: T, *, section: Literal["csv"] | None = None) -> ConfigKey[T]:
    """Declare a kind's config key (see ``ConfigKey``)."""
    key = ConfigKey(name, annotation, default, section)
    CONFIG_KEYS.append(key)
    return key


class ExceptionRule(_Section):
    """A user whose named values clocksync leaves alone, with the reason and (optionally) until when."""

    email: str
    ignore: tuple[str, ...] = Field(min_length=1)  # capacity, fields, manager, deactivation or a field's name
    reason: str
    until: date | None = None  # the last day it holds

    @field_validator("email")
    @classmethod
    def _email(cls, value: str) -> str:
        return config_email(value)

    @field_validator("reason")
    @classmethod
    def _reason(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a reason is required: say why, so the next reviewer knows")
        return value.strip()

    @field_validator("ignore")
    @classmethod
    def _ignore(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        if any(not str(v).strip() for v in value):
            raise ValueError("entries must not be blank")
        return tuple(str(v).strip() for v in value)


class Config(_Section):
    workspace: WorkspaceConfig = WorkspaceConfig()
    field_mapping: dict[str, str] = Field(default_factory=dict)  # CSV column -> USER custom field name
    csv: CsvConfig = CsvConfig()
    groups: GroupsConfig = GroupsConfig()
    safety: SafetyConfig = SafetyConfig()
    api: ApiConfig = ApiConfig()
    apply: ApplyConfig = ApplyConfig()
    invite: InviteConfig = InviteConfig()
    exceptions: tuple[ExceptionRule, ...] = ()
    source: str = Field(default="(defaults)", exclude=True)
    sha256: str = Field(default="", exclude=True)

    def value(self, key: ConfigKey[T]) -> T:
        """A kind's key (its default when this config was built without the kinds' keys)."""
        holder: BaseModel = self.csv if key.section == "csv" else self
        return cast(T, getattr(holder, key.name, key.default))

    def names(self, *keys: ConfigKey[str]) -> dict[str, str]:
        """The columns that ``keys`` name in this config's file other than their defaults (a name
        changed on purpose), each with its key's dotted name (``csv.hourly_rate_column``)."""
        named: dict[str, str] = {}
        for key in keys:
            holder: BaseModel = self.csv if key.section == "csv" else self
            if key.name in holder.model_fields_set and self.value(key) != key.default:
                named[self.value(key)] = f"{key.section}.{key.name}" if key.section else key.name
        return named

    @classmethod
    def build(cls, data: dict[str, Any]) -> Config:
        """A config from plain data, kinds' keys included. Raises pydantic's ValidationError."""
        return config_model().model_validate(data)

    @field_validator("field_mapping")
    @classmethod
    def _mapping(cls, value: dict[str, str]) -> dict[str, str]:
        seen: set[str] = set()
        for column, name in value.items():
            if not str(column).strip() or not str(name).strip():
                raise ValueError("column and field names must not be blank")
            if name_key(name) in seen:
                raise ValueError(f"custom field {name!r} is mapped twice")
            seen.add(name_key(name))
        return {str(k).strip(): str(v).strip() for k, v in value.items()}


@functools.cache
def config_model() -> type[Config]:
    """``Config`` with every key the kinds declare (built once, after the kinds are imported)."""
    import clocksync.kinds  # noqa: F401  (importing the kinds declares their keys)

    def fields(section: str | None) -> dict[str, Any]:
        return {k.name: (k.annotation, k.default) for k in CONFIG_KEYS if k.section == section}

    csv_model = create_model("CsvConfig", __base__=CsvConfig, **fields("csv"))
    return create_model("Config", __base__=Config, csv=(csv_model, csv_model()), **fields(None))


def _line_of(document: Any, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the deepest key in ``loc`` that exists in the YAML document."""
    node: Any = document
    line = None
    for part in loc:
        if hasattr(node, "lc") and isinstance(node, dict) and part in node:
            line = getattr(node, "lc").key(part)[0] + 1  # noqa: B009
            node = node[part]
        elif hasattr(node, "lc") and isinstance(node, list) and isinstance(part, int) and part < len(node):
            line = getattr(node, "lc").item(part)[0] + 1  # noqa: B009
            node = node[part]
        else:
            break
    return line


HOW_TO_MAKE_ONE = ("make one with `clocksync init` (writes a commented config.yaml here to edit), or pass "
                   "--config PATH (the demo's is examples/config.yaml)")


def load_config(path: Path | None, *, required: bool = False, given: bool = True) -> Config:
    """Read and validate a config file. A missing file that is not ``required`` gives the defaults.

    ``given``: whether the user named ``path`` (else it is the default ``config.yaml``), which
    only changes what the error for a missing file says. Raises ConfigError naming the file, key
    and line.
    """
    if path is None or (not path.exists() and not required):
        return Config()
    if not path.exists() and not path.is_symlink():
        where = f"{path}: no such file" if given else (
            f"no config: no --config was given and there is no {path} in the working directory ({Path.cwd()})")
        raise ConfigError(f"{where}; a plan needs one (the field mapping, the fallback manager): {HOW_TO_MAKE_ONE}")
    try:
        raw = read_input(path)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    try:
        _refuse_what_no_config_needs(text, path)
        document: Any = YAML(typ="rt").load(text)
    except ValueError:  # a number the constructor cannot read, should the scan miss one
        raise ConfigError(f"{path}: a value is a number too long to read") from None
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["unreadable"])[0]
        raise ConfigError(f"{path}:{where}: invalid YAML: {visible(str(problem))}") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid YAML: nested too deep") from None
    if document is None:
        document = {}
    if not isinstance(document, dict):
        raise ConfigError(f"{path}: the top level must be a mapping of keys")
    for internal in ("source", "sha256"):
        if internal in document:
            line = getattr(document, "lc").key(internal)[0] + 1  # noqa: B009
            raise ConfigError(f"{path}: line {line}, key {internal}: unknown key")
    try:
        config = Config.build(_plain(document))
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            loc = tuple(error["loc"])
            key = ".".join(str(p) for p in loc) or "(top level)"
            line = _line_of(document, loc)
            where = f"line {line}, " if line else ""
            message = "unknown key" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
            problems.append(f"{path}: {where}key {visible(key)}: {visible(message)}")
        raise ConfigError("\n".join(problems)) from None
    problems = [f"{path}: {where}key {key}: {visible(message)}"
                for where, key, message in (*_exception_problems(config, document),
                                            *_sensitive_problems(config, document))]
    if problems:
        raise ConfigError("\n".join(problems))
    return config.model_copy(update={"source": str(path), "sha256": hashlib.sha256(raw).hexdigest()})


MAX_NUMBER_DIGITS = 4000  # below Python's 4,300-digit limit on reading an int; no setting needs more than a few


def _refuse_what_no_config_needs(text: str, path: Path) -> None:
    """Refuse, naming the line, what no config needs and what makes reading one unbounded:

    - YAML anchors and aliases (``&name``, ``*name``): an alias chain ("billion laughs") grows
      without limit as the document is walked (a pull request's config is read next to the key);
    - a plain number of more than ``MAX_NUMBER_DIGITS`` digits, which Python refuses to read.

    Reads the YAML's events, never builds the document. Raises ConfigError (or YAMLError for YAML
    that does not parse, which the caller reports).
    """
    for event in YAML(typ="rt").parse(text):
        line = event.start_mark.line + 1
        if isinstance(event, AliasEvent) or getattr(event, "anchor", None):
            raise ConfigError(f"{path}: line {line}: YAML anchors and aliases (&name, *name) are not allowed in a "
                              "config; write the values out")
        if (isinstance(event, ScalarEvent) and event.style is None and len(event.value) > MAX_NUMBER_DIGITS
                and sum(c.isdigit() for c in event.value) > MAX_NUMBER_DIGITS):
            raise ConfigError(f"{path}: line {line}: a number of {len(event.value):,} characters; no setting needs "
                              f"more than a few digits")


def _exception_problems(config: Config, document: Any) -> list[tuple[str, str, str]]:
    """An ignore entry must be a keyword or a mapped field's name (a typo would silently not hold)."""
    return [problem for i, rule in enumerate(config.exceptions)
            for problem in _unmapped(config, document, ("exceptions", i, "ignore"), f"exceptions.{i}.ignore",
                                     rule.ignore, "is neither a keyword nor a mapped custom field ({known})",
                                     EXCEPTION_KEYWORDS)]


def _sensitive_problems(config: Config, document: Any) -> list[tuple[str, str, str]]:
    """A ``sensitive_fields`` entry must name a mapped field: a typo would print the values it was
    meant to hide (kinds/profile.py declares the key)."""
    return _unmapped(config, document, ("sensitive_fields",), "sensitive_fields.{index}",
                     getattr(config, "sensitive_fields", ()),
                     "is not a mapped custom field ({known}); its values would be shown")


def _unmapped(config: Config, document: Any, at: tuple[str | int, ...], key: str, entries: Iterable[str],
              why: str, keywords: Iterable[str] = ()) -> list[tuple[str, str, str]]:
    """(where, key, message) for each entry of the list at ``at`` that is neither one of ``keywords``
    (any case) nor a mapped field's name (``name_key``); ``key`` may hold ``{index}``, ``why``
    ``{known}`` (the names that would do)."""
    fields = {name_key(f): f for f in config.field_mapping.values()}
    words = tuple(keywords)
    known = ", ".join([*words, *fields.values()]) or "none: field_mapping is empty"
    problems = []
    for index, entry in enumerate(entries):
        if entry.casefold() in words or name_key(entry) in fields:
            continue
        line = _line_of(document, (*at, index)) or _line_of(document, at)
        problems.append((f"line {line}, " if line else "", key.format(index=index),
                         f"{entry!r} {why.format(known=known)}"))
    return problems


def _plain(node: Any) -> Any:
    """ruamel's commented containers -> plain dicts and lists."""
    if isinstance(node, dict):
        return {str(k): _plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_plain(v) for v in node]
    return node

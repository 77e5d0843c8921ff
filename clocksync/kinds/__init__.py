"""The resource kinds clocksync changes: one module each, found by walking this package.

Each module defines its plan actions (subclasses of ``Action``), the rule that emits them
(``@rule``), its objects whole (``Snapshot``) and the actions' ``Handler``. Adding a kind is adding
a module here (and its test): the differ, the plan file, rendering, the audit trail, the executor
and undo find it through the registries.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING, Annotated, Any, Union

from pydantic import Field

from clocksync.kinds.base import RULES, Action, Handler

for _module in sorted(m.name for m in pkgutil.iter_modules(__path__) if m.name != "base"):
    importlib.import_module(f"{__name__}.{_module}")

ACTION_TYPES: tuple[type[Action], ...] = tuple(sorted(Action.registry.values(), key=lambda c: c.__name__))

if TYPE_CHECKING:
    AnyAction = Action
else:
    # The discriminated union pydantic parses a plan's actions with.
    AnyAction = Annotated[Union[ACTION_TYPES], Field(discriminator="kind")]  # noqa: UP007


def handler_for(action: Action) -> Handler[Any]:
    """The handler of an action's kind."""
    return Handler.registry[type(action)]


__all__ = ["ACTION_TYPES", "RULES", "Action", "AnyAction", "Handler", "handler_for"]

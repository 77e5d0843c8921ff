"""Read-only proof that the API key can do what a sync needs (API-NOTES section 1).

Two role-filtered workspace lists (the admin filter does not count owners, so both are asked),
then the workspace itself for its feature list. Nothing is written.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from clocksync.clockify.client import ClockifyClient
from clocksync.errors import AuthError, ClockifyError, ForbiddenError, PreflightError

# Features the sync uses, as named in the spec's Feature enum. Whether every plan reports them
# by these names is unverified, so a missing one is a warning, not a refusal.
NEEDED_FEATURES = ("CUSTOM_FIELDS", "MANAGER_ROLE")


@dataclass(frozen=True)
class PreflightReport:
    user_id: str  # the key's own user
    checks: tuple[str, ...] = field(default_factory=tuple)  # what was proven, one line each


async def preflight(client: ClockifyClient) -> PreflightReport:
    """Raises PreflightError (with what to do) when the key is not an admin or owner of the workspace."""
    try:
        me = await client.get_current_user()
    except AuthError as exc:
        raise PreflightError(f"the API key was rejected ({exc.message or 'HTTP 401'}): check CLOCKIFY_API_KEY, "
                             "and for a subdomain workspace use a key made for that workspace") from None
    try:
        as_admin, as_owner = await asyncio.gather(
            client.list_workspaces("WORKSPACE_ADMIN"), client.list_workspaces("OWNER")
        )
    except ClockifyError as exc:
        raise PreflightError(f"cannot list the key's workspaces: {exc}") from None
    target = client.workspace_id
    if any(w.id == target for w in as_owner):
        role = "OWNER"
    elif any(w.id == target for w in as_admin):
        role = "WORKSPACE_ADMIN"
    else:
        raise PreflightError(
            f"the key's user {me.email} is not an admin or owner of workspace {target}: a sync needs a "
            "workspace admin's key (check CLOCKIFY_WORKSPACE_ID, or ask an owner to make this user an admin)"
        )
    try:
        workspace = await client.get_workspace()
    except ForbiddenError:
        raise PreflightError(f"workspace {target} answered 403 to its admin: is the key for another region?") from None
    missing = tuple(f for f in NEEDED_FEATURES if workspace.features and f not in workspace.features)
    checks = (
        f"key belongs to {me.email}",
        f"{role} of workspace {workspace.name or target}",
        "features: " + ("all present" if not missing else "missing " + ", ".join(missing)),
    )
    return PreflightReport(me.id, checks)

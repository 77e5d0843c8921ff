"""How the emulator answers where the live API's answer is unverified (API-NOTES section 12).

``Answers`` holds one switch per open behaviour. Its defaults follow the live evidence where there
is some (removing a non-member answers 200, the USER custom-field cap is 50) and the friendliest
plausible answer elsewhere; ``clocksync emulator --live-variant NAME`` (or ``Answers.with_variants``
in-process) switches to each other plausible answer, so clocksync can be shown correct under
every one of them. docs/live-api.md lists each behaviour with its evidence.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

# name -> what the emulator then does (shown by `clocksync emulator --help` and in errors)
VARIANTS: dict[str, str] = {
    "profile-patch-replaces": "PATCH member-profile replaces the profile with what is sent: custom fields, "
                              "capacity, working days and week start not sent are cleared",
    "page-cap=N": "paged lists return at most N items a page whatever page-size asks (Last-Page stays right)",
    "group-grant-lag=SECONDS": "a TEAM_MANAGER grant on a group created less than SECONDS ago is refused (400)",
    "remove-nonmember-ok": "removing a user who is not in the group answers 200, group unchanged (the default)",
    "duplicate-add-ok": "adding a member already in the group, or granting a role already held, succeeds unchanged",
    "roles-source-null": "group grants in the roles array of include-roles carry source: null",
    "no-retry-after": "429 answers never carry Retry-After",
    "empty-429-body": "429 answers have an empty body",
    "profile-answer-stale": "PATCH member-profile answers with the profile as it was before the write "
                            "(the write still lands)",
    "null-value-kept": "a USER custom-field value sent as null is left as it was (null does not clear)",
    "null-value-refused": "a USER custom-field value sent as null is refused: 400 \"value must not be null\"",
    "limited-email-null": "limited members (no email) are listed with \"email\": null instead of no email key",
    "owner-profile-readonly": "PATCH member-profile of the workspace owner by anyone but the owner is refused: 403",
    "pending-profile-readonly": "PATCH member-profile of a member who has not joined (PENDING) is refused: 403",
    "inactive-value-refused": "a value for an INACTIVE USER custom field, in a profile PATCH or a value PUT, is "
                              "refused: 400",
    "invisible-fields-active": "INVISIBLE USER custom fields count against the cap of 10 active fields",
}


@dataclass(frozen=True)
class Answers:
    profile_patch_replaces: bool = False
    page_cap: int | None = None
    group_grant_lag: float = 0.0
    remove_nonmember_ok: bool = True  # live evidence: 200 with the group unchanged
    duplicate_add_ok: bool = False
    roles_source_null: bool = False
    no_retry_after: bool = False
    empty_429_body: bool = False
    profile_answer_stale: bool = False
    null_value_kept: bool = False
    null_value_refused: bool = False
    limited_email_null: bool = False
    owner_profile_readonly: bool = False
    pending_profile_readonly: bool = False
    inactive_value_refused: bool = False
    invisible_fields_active: bool = False
    user_field_cap: int = 50  # live evidence: the 51st USER custom field is refused, 400 code 4033

    def with_variants(self, names: list[str] | tuple[str, ...]) -> Answers:
        """These answers with each named variant switched on. Raises ValueError naming the valid ones."""
        answers = self
        for text in names:
            name, _, value = text.strip().partition("=")
            try:
                if name == "page-cap":
                    cap = int(value)
                    if cap < 1:
                        raise ValueError
                    answers = dataclasses.replace(answers, page_cap=cap)
                elif name == "group-grant-lag":
                    lag = float(value)
                    if lag < 0:
                        raise ValueError
                    answers = dataclasses.replace(answers, group_grant_lag=lag)
                elif name in VARIANTS and not value:
                    answers = dataclasses.replace(answers, **{name.replace("-", "_"): True})
                else:
                    raise ValueError
            except ValueError:
                raise ValueError(f"unknown live variant {text!r}; known: {', '.join(VARIANTS)}") from None
        return answers

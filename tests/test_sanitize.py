"""One sanitiser for every medium (finding 4, terminal escapes and live mentions; finding 6, formulas).

A table of hostile strings goes through each medium: the terminal, markdown, HTML, JSON, the audit
CSV and export. Then the same strings are put where a workspace member puts them (their display
name, a custom field value) and the CLI's real output is checked.
"""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from clocksync.config import Config
from clocksync.errors import CsvError
from clocksync.export import csv_text
from clocksync.load.desired import load_desired, reads_back
from clocksync.sanitize import (
    csv_cell,
    export_cell,
    html,
    is_dangerous,
    json_safe,
    looks_like_formula,
    markdown,
    markdown_code,
    read_cell,
    visible,
    visible_lines,
)
from tests.conftest import EmulatorHarness, run_cli

HOSTILE = {
    "CSI erase lines": "Jane\x1b[9A\x1b[J",
    "CSI colour": "\x1b[31mred\x1b[0m",
    "OSC 8 link": "\x1b]8;;https://evil.example\x07click me\x1b]8;;\x07",
    "OSC title (ST)": "\x1b]0;pwned\x1b\\",
    "lone ESC": "a\x1bb",
    "carriage return": "safe\rEVIL",
    "backspace": "abc\x08\x08\x08xyz",
    "NUL": "a\x00b",
    "DEL": "a\x7fb",
    "bell": "a\x07b",
    "C1 CSI U+009B": "a\x9b2Jb",
    "C1 NEL U+0085": "a\x85b",
    "C1 OSC U+009D": "a\x9d0;t\x9cb",
    "bidi override RLO": "Jane \u202egnp.exe",
    "bidi LRO PDF": "\u202dx\u202c",
    "bidi isolates": "a\u2066b\u2067c\u2068d\u2069",
    "bidi marks": "a\u200eb\u200fc\u061c",
    "zero-width space": "jo\u200bhn",
    "zero-width joiner": "jo\u200dhn",
    "zero-width non-joiner": "jo\u200chn",
    "word joiner": "jo\u2060hn",
    "BOM": "\ufeffjohn",
    "soft hyphen": "jo\u00adhn",
    "line separator": "a\u2028b",
    "paragraph separator": "a\u2029b",
    "newline": "line one\nline two",
    "tab": "a\tb",
    "tag characters": "a\U000e0041\U000e007fb",
    "unassigned code point": "a\U0003ffffb",
    "markdown link": "[click](https://evil.example)",
    "markdown image": "![x](https://evil.example/p.png)",
    "html tag": "<img src=x onerror=alert(1)>",
    "html comment": "<!-- hidden -->",
    "table pipe": "a | b |",
    "emphasis": "**bold** _it_ ~~gone~~",
    "math": "$x^2$",
    "mention": "@octocat",
    "team mention": "please ping @acme/security",
    "issue ref": "fixes #123",
    "cross-repo ref": "acme/tools#7",
    "GH ref": "GH-42",
    "bare link": "see https://evil.example/login",
    "www link": "www.evil.example",
    "entity": "&#64;octocat",
    "backticks": "``code``",
    "formula =": "=cmd|' /C calc'!A0",
    "formula +": "+1+1",
    "formula -": "-1+cmd",
    "formula @": "@SUM(A1:A9)",
    "formula tab": "\t=1+1",
    "formula CR": "\r=1+1",
    "full-width =": "\uff1d1+1",
    "apostrophe first": "'=already quoted",
}
IDS = list(HOSTILE)
VALUES = list(HOSTILE.values())


def shown(text: str) -> str:
    """What a reader sees of rendered text: it must hold no character that acts instead of showing."""
    acting = sorted({f"U+{ord(c):04X}" for c in text if is_dangerous(c) and c != "\n"})
    assert acting == [], f"characters that act on the reader: {acting} in {text!r}"
    return text


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_terminal_text_shows_every_character(value: str) -> None:
    out = shown(visible(value))
    assert "\n" not in out
    if value.isprintable():
        assert out == value, "printable text is shown as it is"
    assert shown(visible_lines(value)).count("\n") == value.count("\n")


def test_every_acting_character_is_escaped_by_category() -> None:
    """The rule is by Unicode category, so it covers what the table does not list; and every
    Default_Ignorable code point (shown as nothing) is escaped, whatever its category."""
    import unicodedata

    from clocksync.chars import DEFAULT_IGNORABLE

    for code in [*range(0, 0x3000), *range(0x3100, 0x3200), *range(0xFE00, 0x10000), *range(0xE0000, 0xE0200)]:
        char = chr(code)
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn") or char in DEFAULT_IGNORABLE:
            assert is_dangerous(char) and visible(char).startswith("\\"), f"U+{code:04X} ({category})"
        else:
            assert not is_dangerous(char), f"U+{code:04X} ({category}) is shown as itself"


# ---------------------------------------------------------------------- markdown (a PR comment)

_PARSER = MarkdownIt("commonmark").enable("table").enable("strikethrough")
_MENTION = re.compile(r"(?<![A-Za-z0-9])@[A-Za-z0-9]|#\d|GH-\d|https?://|www\.", re.IGNORECASE)


def _text_outside_code(tokens: list) -> list[str]:  # type: ignore[type-arg]
    found = []
    for token in tokens:
        if token.children:
            found += _text_outside_code(token.children)
        elif token.type == "text":
            found.append(token.content)
    return found


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_markdown_renders_the_value_as_plain_text(value: str) -> None:
    source = f"- **{markdown(value)}**: {markdown(value)}\n"
    shown(source)
    tokens = _PARSER.parse(source)
    kinds = {t.type for t in tokens} | {c.type for t in tokens for c in (t.children or [])}
    assert kinds <= {"bullet_list_open", "list_item_open", "paragraph_open", "inline", "strong_open", "text",
                     "code_inline", "strong_close", "paragraph_close", "list_item_close", "bullet_list_close",
                     "softbreak"}, f"markup from the value: {sorted(kinds)}"
    for text in _text_outside_code(tokens):
        assert not _MENTION.search(text), f"a live mention, reference or link outside code: {text!r}"


def test_emails_stay_readable_in_markdown() -> None:
    assert markdown("john.doe@example.com") == "john.doe@example.com"
    assert markdown("ping @octocat now") == "ping `@octocat` now"
    assert markdown_code("a`b") == "``a`b``" and markdown_code("`x") == "`` `x ``"


# ---------------------------------------------------------------------- HTML and JSON


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_html_escapes_markup_and_shows_every_character(value: str) -> None:
    out = shown(html(value))
    assert "<" not in out and ">" not in out and '"' not in out
    assert "\n" not in out


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_json_keeps_the_value_and_prints_safely(value: str) -> None:
    text = json_safe(json.dumps({"name": value}, indent=2, ensure_ascii=False))
    shown(text)
    assert json.loads(text) == {"name": value}


# ---------------------------------------------------------------------- spreadsheets


@pytest.mark.parametrize("value", VALUES, ids=IDS)
def test_audit_cells_never_act_and_never_run(value: str) -> None:
    cell = shown(csv_cell(value))
    assert not looks_like_formula(cell)


@pytest.mark.parametrize("value", [v for v in VALUES if v == v.strip() and "\x00" not in v], ids=[
    i for i, v in HOSTILE.items() if v == v.strip() and "\x00" not in v])
def test_export_cells_never_run_and_the_loader_reads_them_back(value: str, tmp_path: Path) -> None:
    cell = export_cell(value)
    assert not looks_like_formula(cell)
    assert read_cell(cell)[0] == value
    path = tmp_path / "users.csv"
    path.write_bytes(csv_text([["NTID email", "Manager NTID email", "Weekly Working Hours", "Note"],
                               ["a@x.io", "", "40", cell]]).encode())
    config = Config.model_validate({"field_mapping": {"Note": "Note"}})
    if reads_back(value):
        assert load_desired(path, config).users["a@x.io"].fields["Note"] == value
        return
    # A value holding what a person does not see is read as they see it (and listed), or refused
    # with row and column; export leaves such a value out (tests/test_export.py), so nothing runs.
    try:
        loaded = load_desired(path, config)
    except CsvError as exc:
        assert exc.problems[0].startswith("row 2, column 'Note': ")
    else:
        assert loaded.users["a@x.io"].fields.get("Note") != value and loaded.cleaned


def test_people_type_an_apostrophe_and_keep_it() -> None:
    assert read_cell("'tis the season") == ("'tis the season", False)
    assert read_cell("''tis") == ("'tis", True) and export_cell("'tis") == "''tis"
    assert export_cell("-5") == "-5" and export_cell("-5.5") == "-5.5", "a negative number is a number"


# ---------------------------------------------------------------------- the CLI's real output

ATTACK = "Jane\x1b[9A\x1b[J\r\u202e @octocat #12 \x9b2J"


def _hostile_workspace(harness: EmulatorHarness) -> None:
    """What a workspace member can set: their own display name (manager groups are named after it)."""
    jane = harness.state.user(harness.user_id("jane.smith@example.com"))
    jane.name = ATTACK
    company = next(f for f in harness.state.ws.fields.values() if f.name == "Company")
    john = harness.state.user(harness.user_id("john.doe@example.com"))
    john.custom_values[company.id] = "=cmd|' /C calc'!A0\x1b]8;;https://evil.example\x07"


def test_plan_and_show_cannot_hide_the_destructive_actions(harness: EmulatorHarness, workdir: Path) -> None:
    _hostile_workspace(harness)
    result = run_cli(harness, "plan", "users.csv", "--deactivate-missing")
    assert result.exit_code == 0, result.output
    for output in (result.stdout, result.stderr):
        shown(output)
    assert "Destructive actions (" in result.stdout and "deactivate pat.leaver@example.com" in result.stdout
    assert "Jane\\x1b[9A\\x1b[J\\r\\u202e" in result.stdout, "the name is shown, escaped"
    for fmt in ("text", "markdown", "html", "json"):
        rendered = run_cli(harness, "show", "plans/plan.json", "--format", fmt)
        assert rendered.exit_code == 0, rendered.output
        shown(rendered.stdout)
    markdown_out = run_cli(harness, "show", "plans/plan.json", "--format", "markdown").stdout
    for text in _text_outside_code(_PARSER.parse(markdown_out)):
        assert "@octocat" not in text and "#12" not in text


def test_apply_audit_and_export_cannot_carry_escapes_or_formulas(harness: EmulatorHarness, workdir: Path) -> None:
    _hostile_workspace(harness)
    assert run_cli(harness, "plan", "users.csv").exit_code == 0
    applied = run_cli(harness, "apply", "plans/plan.json", "--confirm", "I UNDERSTAND")
    assert applied.exit_code == 0, applied.output
    shown(applied.output)
    for name in ("sync_success_log.csv", "sync_error_log.csv"):
        with open(name, newline="", encoding="utf-8") as handle:
            for row in csv.reader(handle):
                for cell in row:
                    shown(cell)
                    assert not looks_like_formula(cell), cell
    exported = run_cli(harness, "export", "adopt")
    assert exported.exit_code == 0, exported.output
    shown(exported.output)
    with open("adopt/users.csv", newline="", encoding="utf-8") as handle:
        assert not [cell for row in csv.reader(handle) for cell in row if looks_like_formula(cell)]
    again = run_cli(harness, "plan", "adopt/users.csv", "--config", "adopt/config.yaml", "--detailed-exitcode",
                    "--out", "plans/again.json")
    assert again.exit_code == 0, again.output  # the export reads back: the hostile value is in place

"""How long HTML reports take to load in headless Chromium, loaded in turns so that a busy machine
weighs on each page alike (the figure is the page's own ``data-ready-ms``: from navigation start to
the end of its script).

Usage:
  python benchmarks/html_load.py --write report-10k.html          # the 10,000-user plan page
  python benchmarks/html_load.py --runs 10 old.html report-10k.html
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def load_seconds(chromium: str, page: Path, profile: Path) -> float:
    dom = subprocess.run([chromium, *FLAGS, f"--user-data-dir={profile}", "--dump-dom", page.resolve().as_uri()],
                         capture_output=True, text=True, timeout=120, check=True).stdout
    found = re.search(r'data-ready-ms="(\d+)"', dom)
    if not found:
        raise SystemExit(f"{page}: the page's script did not run")
    return int(found.group(1)) / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("pages", nargs="*", type=Path)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--write", type=Path, help="write the plan page of a --users workload here and stop")
    parser.add_argument("--users", type=int, default=10_000)
    args = parser.parse_args()
    if args.write:
        from benchmarks.workload import offline_plan
        from clocksync.render import render_html

        args.write.write_text(render_html(offline_plan(args.users)), encoding="utf-8")
        print(f"wrote {args.write} ({args.write.stat().st_size // 1024} KB)")
        return 0
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed")
    times: dict[Path, list[float]] = {page: [] for page in args.pages}
    with tempfile.TemporaryDirectory() as profile:
        for _ in range(args.runs):
            for page in args.pages:
                times[page].append(load_seconds(chromium, page, Path(profile)))
    for page, seconds in times.items():
        print(f"{page}: median {statistics.median(seconds):.2f} s, fastest {min(seconds):.2f} s "
              f"({len(seconds)} loads, {page.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""CPU time of reading a users file: a 50,000-row CSV (and the same rows as an .xlsx with --xlsx).

    .venv/bin/python benchmarks/load_bench.py [--rows N] [--runs R] [--xlsx]

Prints the median and the minimum of R runs of ``load_desired`` (process CPU seconds). The files
are made in a temporary folder: every fifth user has no hours, managers are earlier users.
"""

from __future__ import annotations

import argparse
import random
import statistics
import tempfile
import time
from pathlib import Path

from clocksync.config import Config
from clocksync.load.desired import load_desired

CONFIG = Config.model_validate({"field_mapping": {"Company (Label)": "Company", "Country (Label)": "Country",
                                                  "Global Id": "Global ID"}})


def rows(n: int) -> list[list[str]]:
    rnd = random.Random(1)
    table = [["NTID email", "Manager NTID email", "Weekly Working Hours", "Company (Label)", "Country (Label)",
              "Global Id"]]
    for i in range(n):
        manager = f"user{rnd.randrange(i)}@example.com" if i else ""
        table.append([f"user{i}@example.com", manager, rnd.choice(["40", "37.5", "32", "24", ""]), f"Acme {i % 7}",
                      rnd.choice(["USA", "Germany", "Spain"]), str(100000 + i)])
    return table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--xlsx", action="store_true", help="also time the same rows as an .xlsx workbook")
    args = parser.parse_args()
    table = rows(args.rows)
    with tempfile.TemporaryDirectory() as tmp:
        paths = [Path(tmp) / "users.csv"]
        paths[0].write_text("\n".join(",".join(r) for r in table) + "\n")
        if args.xlsx:
            from clocksync.export_xlsx import workbook_bytes

            paths.append(Path(tmp) / "users.xlsx")
            paths[1].write_bytes(workbook_bytes(table, number_columns={"Weekly Working Hours"}))
        for path in paths:
            times = []
            for _ in range(args.runs):
                start = time.process_time()
                state = load_desired(path, CONFIG)
                times.append(time.process_time() - start)
            print(f"{path.name}: {len(state.users):,} users, median {statistics.median(times):.3f} s CPU "
                  f"(min {min(times):.3f}, {args.runs} runs)")


if __name__ == "__main__":
    main()

"""`python -m bench [--quick] [--only store|startup|ui]`: run the benchmarks, print one table.

Every figure is shown with its ratio to a baseline measured in the same run
(see each section's first line), so numbers from different machines are never
compared directly.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time

from bench import Figure, format_table

SUITES = ("store", "startup", "ui")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes (10k inserts, 50k-row lookup table; ui: 100k "
                             "journal lines, 100k invoice lines)")
    parser.add_argument("--only", choices=SUITES, action="append",
                        help="run only this suite (may be repeated)")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    chosen = args.only or list(SUITES)

    import sqlalchemy
    import sqlcipher3
    from PySide6 import __version__ as pyside_version

    cipher = sqlcipher3.connect(":memory:").execute("PRAGMA cipher_version").fetchone()[0]
    print(f"erp_desktop benchmarks{' (quick)' if args.quick else ''}: "
          f"Python {platform.python_version()}, SQLAlchemy {sqlalchemy.__version__}, "
          f"SQLCipher {cipher}, PySide6 {pyside_version}, "
          f"{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs")
    print(file=sys.stderr)

    figures: list[Figure] = []
    started = time.perf_counter()
    if "store" in chosen:
        from bench import store_bench

        figures += store_bench.run(quick=args.quick)
    if "startup" in chosen:
        from bench import startup_bench

        print("  … startup: 2 × (1 + 3) fresh interpreters", file=sys.stderr, flush=True)
        figures += startup_bench.run(quick=args.quick)
    if "ui" in chosen:
        from bench import ui_bench

        print("  … ui: the journal and invoice lists on big files, then start-up to the "
              "main window", file=sys.stderr, flush=True)
        figures += ui_bench.run(quick=args.quick)
    print()
    print(format_table(figures))
    print()
    print(f"ratios are value / the section's x1.00 line; took "
          f"{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

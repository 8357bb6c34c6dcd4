"""Time from launch to a painted login window, against a bare PySide6 window.

Each variant runs in a fresh interpreter (`python -c`, QT_QPA_PLATFORM=offscreen)
three times; the median is printed. Two clocks: "launch → paint" is measured
by this process from spawning the child to reading the line it prints at the
window's first paint (interpreter start-up included, as a person waits for
it); "in-process" is the child's own `perf_counter` from its first line to
that paint. The erp_desktop variant runs `erp_desktop.app.main()` itself, the
real start (paths, settings, the QApplication, the theme, the login window,
logging), with only a wrapper on the controller's `show_login` to report the
window's first paint; it also reports how long importing the composition
root and `ui.main` took, the usual cause of a slow start.

The package is byte-compiled first (`compileall`), as an installed copy is: pip
and the packagers compile every module at install time, while a development
shell often sets PYTHONDONTWRITEBYTECODE, which would make every launch here
compile erp_desktop's sources again and charge that to the start-up.

With `--big-company PATH` (or from `bench.ui_bench`, on the 1M-line invoice
file it builds) a second section goes on to the main window: the child
starts as above, waits while "the person types" (the login window's warm-up
imports finish; the login name and password are filled in), presses Log in,
and reports login submit → main window painted and → the dashboard's
figures painted (the dashboard is the first page). Against the same bare
window, launched the same way in the same run; "launch → main window" adds
launch → login painted and submit → figures painted (typing left out). The
first launch on a fresh installation folder also starts the day's automatic
backup of the company file (`ui.login.daily_backup`, begun by `ui.main` once
the main window is shown, so it runs beside the dashboard's queries), which
the later launches skip; that first login is shown on its own line. The child leaves
with `os._exit` once the figures are painted (no logout, no backup on close).
The KDF of the file's key slot is the file's own: `bench.sales_bench` builds
with the fast test KDF, where a real company's argon2id adds about 0.3 s to
every login by design.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import Figure, format_table, with_ratios

SECTION = "startup: launch to first paint (median of {n})"
MAIN_SECTION = "startup to the main window on {name} (median of {n})"

# Shared by both children: report at the first Paint event of the window (or at
# the first turn of the event loop if the platform sends none), then quit.
_REPORT = """
from PySide6.QtCore import QEvent, QObject, QTimer

class _FirstPaint(QObject):
    done = False
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not self.done:
            _report("paint")
        return False

def _report(how):
    if _FIRST_PAINT.done:
        return
    _FIRST_PAINT.done = True
    MARKS["shown"] = time.perf_counter() - T0
    print("PAINTED " + json.dumps({"how": how, **MARKS}), flush=True)
    QTimer.singleShot(0, app.quit)

_FIRST_PAINT = _FirstPaint()
"""

BARE = """
import time
T0 = time.perf_counter()
import json, sys
MARKS = {}
from PySide6.QtWidgets import QApplication, QMainWindow
MARKS["imports"] = time.perf_counter() - T0
app = QApplication(sys.argv[:1])
""" + _REPORT + """
window = QMainWindow()
window.setWindowTitle("bare")
window.resize(520, 300)
window.installEventFilter(_FIRST_PAINT)
window.show()
QTimer.singleShot(0, lambda: QTimer.singleShot(50, lambda: _report("event loop")))
app.exec()
"""

# The real start: `erp_desktop.app.main()` with no arguments, as the `erp-desktop` command
# runs it (paths, settings, device, the QApplication, the theme, the login window, then
# logging with the event loop). The only addition: the controller's `show_login` is
# wrapped so the login window reports its first paint.
ERP = """
import time
T0 = time.perf_counter()
import json, os, sys
MARKS = {}
import erp_desktop.app as erp_app
import erp_desktop.ui.main as ui_main
MARKS["imports"] = time.perf_counter() - T0
from PySide6.QtCore import QCoreApplication
""" + _REPORT.replace("app.quit", "QCoreApplication.instance().quit") + """
_show_login = ui_main.AppController.show_login

def show_login(self, *args, **kwargs):
    window = _show_login(self, *args, **kwargs)
    window.installEventFilter(_FIRST_PAINT)
    QTimer.singleShot(0, lambda: QTimer.singleShot(50, lambda: _report("event loop")))
    return window

ui_main.AppController.show_login = show_login
erp_app.main([])
os._exit(0)
"""


# Start as ERP does, "type" while the warm-up imports run, log in, then report when the
# main window and the dashboard's figures are painted. MARK lines are timed by the parent.
MAIN = """
import time
T0 = time.perf_counter()
import json, os, sys
MARKS = {}
import erp_desktop.app as erp_app
import erp_desktop.ui.main as ui_main
MARKS["imports"] = time.perf_counter() - T0
from pathlib import Path
from PySide6.QtCore import QEvent, QObject, QThreadPool, QTimer

def mark(key):
    if key not in MARKS:
        MARKS[key] = time.perf_counter() - T0
        print("MARK " + key, flush=True)

class Watch(QObject):
    def __init__(self, key, ready=lambda: True, then=None):
        super().__init__()
        self.key, self.ready, self.then = key, ready, then
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and self.key not in MARKS and self.ready():
            mark(self.key)
            if self.then is not None:
                self.then()
        return False

def finish():
    print("PAINTED " + json.dumps({"how": "paint", **MARKS}), flush=True)
    os._exit(0)

watches = []
SHOWN = {}
_show_login = ui_main.AppController.show_login

def show_login(self, *args, **kwargs):  # the real start, as ERP; then "type" and log in
    window = _show_login(self, *args, **kwargs)
    if not SHOWN:
        SHOWN.update(controller=self, window=window)
        watches.append(Watch("login"))
        window.installEventFilter(watches[0])
        QTimer.singleShot(0, typing)
    return window

ui_main.AppController.show_login = show_login

def logged_in(outcome):  # after the controller's own slot: the main window exists
    mark("logged_in")
    main = SHOWN["controller"].main_window
    dash = main.page("dashboard")
    watches.append(Watch("main"))
    main.installEventFilter(watches[-1])
    watches.append(Watch("figures", lambda: dash.data is not None, finish))
    dash.cards["sales_month"].value.installEventFilter(watches[-1])

def typing():
    window = SHOWN["window"]
    pool = QThreadPool.globalInstance()
    if "login" not in MARKS or pool.activeThreadCount() or "filled" not in MARKS:
        if "login" in MARKS and "filled" not in MARKS:
            window.set_company(Path(os.environ["ERP_BENCH_COMPANY"]))
            window.login_name.setText(os.environ["ERP_BENCH_LOGIN"])
            window.password.setText(os.environ["ERP_BENCH_PASSWORD"])
            MARKS["filled"] = time.perf_counter() - T0
        QTimer.singleShot(600, typing)  # past the keychain check's 400 ms pause
        return
    window.logged_in.connect(logged_in)
    mark("submit")
    window.submit()

erp_app.main([])
"""


def launch_marks(code: str, env: dict[str, str]
                 ) -> tuple[dict[str, float], dict[str, float | str]]:
    """({MARK name: seconds from spawning the child}, the child's final marks)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    walls: dict[str, float] = {}
    marks: dict[str, float | str] | None = None
    for line in proc.stdout:
        if line.startswith("MARK "):
            walls[line[len("MARK "):].strip()] = time.perf_counter() - start
        elif line.startswith("PAINTED "):
            walls["painted"] = time.perf_counter() - start
            marks = json.loads(line[len("PAINTED "):])
            break
    _out, err = proc.communicate(timeout=600)
    if marks is None:
        raise RuntimeError(f"the child never painted its window:\n{err}")
    return walls, marks


def launch(code: str, env: dict[str, str]) -> tuple[float, dict[str, float | str]]:
    """(launch → paint seconds, the child's marks)."""
    walls, marks = launch_marks(code, env)
    return walls["painted"], marks


def compile_package() -> None:
    """Byte-compile erp_desktop as an installation does (see the module docstring)."""
    import compileall

    import erp_desktop

    compileall.compile_dir(os.path.dirname(erp_desktop.__file__), quiet=1)


def run(quick: bool = False, repeat: int = 3) -> list[Figure]:
    del quick  # three launches are already quick
    compile_package()
    with tempfile.TemporaryDirectory(prefix="erp-bench-start-") as home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ERP_DESKTOP_HOME": home}
        launch(BARE, env)  # one untimed run of each: the OS file cache, not Python, is cold
        launch(ERP, env)
        results: dict[str, list[tuple[float, dict[str, float | str]]]] = {"bare": [], "erp": []}
        for _ in range(repeat):  # interleaved, so drift hits both alike
            results["bare"].append(launch(BARE, env))
            results["erp"].append(launch(ERP, env))

    def med(kind: str, key: str) -> float:
        return statistics.median(float(m[key]) for _, m in results[kind]) * 1000

    def wall(kind: str) -> float:
        return statistics.median(e for e, _ in results[kind]) * 1000

    how = {str(m["how"]) for _, m in results["bare"] + results["erp"]}
    section = SECTION.format(n=repeat)
    figures = with_ratios([
        Figure(section, "bare QMainWindow, launch → paint", wall("bare"), "ms",
               note="PySide6 alone"),
        Figure(section, "erp_desktop login, launch → paint", wall("erp"), "ms",
               note="as app.main() starts it"),
    ], "bare QMainWindow, launch → paint")
    figures += with_ratios([
        Figure(section, "bare QMainWindow, in-process", med("bare", "shown"), "ms",
               note=f"imports {med('bare', 'imports'):.0f} ms"),
        Figure(section, "erp_desktop login, in-process", med("erp", "shown"), "ms",
               note=f"imports {med('erp', 'imports'):.0f} ms; measured at "
                    f"{' / '.join(sorted(how))}"),
    ], "bare QMainWindow, in-process")
    return figures


def main_window_figures(company: Path, login: str, password: str,
                        repeat: int = 3) -> list[Figure]:
    """Launch → login window → Log in → main window with the dashboard's figures, on
    `company`, against a bare window launched the same way (see the module docstring)."""
    compile_package()
    with tempfile.TemporaryDirectory(prefix="erp-bench-main-") as home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "ERP_DESKTOP_HOME": home,
               "ERP_BENCH_COMPANY": str(company), "ERP_BENCH_LOGIN": login,
               "ERP_BENCH_PASSWORD": password}
        launch(BARE, env)
        first_walls, first_marks = launch_marks(MAIN, env)  # takes the day's backup
        bare: list[float] = []
        runs: list[tuple[dict[str, float], dict[str, float | str]]] = []
        for _ in range(repeat):  # interleaved, so drift hits both alike
            bare.append(launch(BARE, env)[0])
            runs.append(launch_marks(MAIN, env))

    def med(values: list[float]) -> float:
        return statistics.median(values) * 1000

    def after_submit(marks: dict[str, float | str], key: str) -> float:
        return float(marks[key]) - float(marks["submit"])

    section = MAIN_SECTION.format(name=f"“{company.name}”", n=repeat)
    login_ms = med([w["login"] for w, _ in runs])
    figures_ms = med([after_submit(m, "figures") for _, m in runs])
    return with_ratios([
        Figure(section, "bare QMainWindow, launch → paint", med(bare), "ms",
               note="PySide6 alone"),
        Figure(section, "erp_desktop login window, launch → paint", login_ms, "ms",
               note=f"imports {med([float(m['imports']) for _, m in runs]):.0f} ms"),
        Figure(section, "login submit → main window painted",
               med([after_submit(m, "main") for _, m in runs]), "ms",
               note=f"login on the worker "
                    f"{med([after_submit(m, 'logged_in') for _, m in runs]):.0f} ms"),
        Figure(section, "login submit → dashboard figures painted", figures_ms, "ms"),
        Figure(section, "launch → main window with figures", login_ms + figures_ms, "ms",
               note="the two above; typing left out"),
        Figure(section, "first login of the day: submit → figures",
               after_submit(first_marks, "figures") * 1000, "ms",
               note=f"once; the day's backup runs beside it (main window painted "
                    f"{after_submit(first_marks, 'main') * 1000:.0f} ms after submit; "
                    f"launch → login {first_walls['login'] * 1000:.0f} ms)"),
    ], "bare QMainWindow, launch → paint")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry")
    parser.add_argument("--big-company", type=Path, metavar="PATH",
                        help="also time login → main window on this company file "
                             "(e.g. one kept by `python -m bench.ui_bench --company-dir`)")
    parser.add_argument("--login", default="owner", help="login name for --big-company")
    parser.add_argument("--password", default=None,
                        help="password for --big-company (default: bench.sales_bench's)")
    args = parser.parse_args(argv)
    figures = run(args.quick)
    if args.big_company is not None:
        password = args.password
        if password is None:
            from bench.sales_bench import PASSWORD as password
        figures += main_window_figures(args.big_company, args.login, password)
    print(format_table(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())

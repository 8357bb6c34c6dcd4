"""Time from launch to a painted login window, against a bare PySide6 window.

Each variant runs in a fresh interpreter (`python -c`, QT_QPA_PLATFORM=offscreen)
three times; the median is printed. Two clocks: "launch → paint" is measured
by this process from spawning the child to reading the line it prints at the
window's first paint (interpreter start-up included, as a person waits for
it); "in-process" is the child's own `perf_counter` from its first line to
that paint. The erp_desktop variant starts the way `app.main()` does (the
composition root's imports, settings, then the controller's login window),
and also reports how long its imports took, the usual cause of a slow start.

The package is byte-compiled first (`compileall`), as an installed copy is: pip
and the packagers compile every module at install time, while a development
shell often sets PYTHONDONTWRITEBYTECODE, which would make every launch here
compile erp_desktop's sources again and charge that to the start-up.
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

from bench import Figure, format_table, with_ratios

SECTION = "startup: launch to first paint (median of {n})"

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

ERP = """
import time
T0 = time.perf_counter()
import json, sys
MARKS = {}
from erp_desktop.app import app_config, device_info
from erp_desktop.settings import default_paths, load_settings
from erp_desktop.ui.main import AppController, make_application
MARKS["imports"] = time.perf_counter() - T0
paths = default_paths()
settings = load_settings(paths)
app = make_application(sys.argv[:1])
""" + _REPORT + """
controller = AppController(settings=settings, config=app_config(paths, settings),
                           device=device_info(), paths=paths)
window = controller.show_login()
window.installEventFilter(_FIRST_PAINT)
QTimer.singleShot(0, lambda: QTimer.singleShot(50, lambda: _report("event loop")))
app.exec()
controller.shutdown()
"""


def launch(code: str, env: dict[str, str]) -> tuple[float, dict[str, float | str]]:
    """(launch → paint seconds, the child's marks)."""
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    marks: dict[str, float | str] | None = None
    elapsed = 0.0
    for line in proc.stdout:
        if line.startswith("PAINTED "):
            elapsed = time.perf_counter() - start
            marks = json.loads(line[len("PAINTED "):])
            break
    _out, err = proc.communicate(timeout=120)
    if marks is None:
        raise RuntimeError(f"the child never painted a window:\n{err}")
    return elapsed, marks


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.startup_bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="accepted for symmetry")
    args = parser.parse_args(argv)
    print(format_table(run(args.quick)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Screenshots of every screen, for people to look at: `make screenshots`.

Opens the demo company (built on first use in build/screens-home, a private
ERP_DESKTOP_HOME), logs in as the owner and, in the light and the dark palette
and at 1366x768 and 1920x1080, grabs the login window and every area of the
main window with each of its tabs, after the background work that fills them
has finished. PNGs go to build/screenshots/<theme>-<width>/NN-area-tab.png.

`--only AREA` limits it to one area; `--sizes 1366x768` and `--themes dark`
narrow the matrix; `--login LOGIN --password PW` looks as another role does.
Runs offscreen unless a display is set (xvfb-run works as well).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "page"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", default=str(ROOT / "build" / "screenshots"))
    parser.add_argument("--home", default=str(ROOT / "build" / "screens-home"))
    parser.add_argument("--only", action="append", help="area key (may be repeated)")
    parser.add_argument("--sizes", default="1366x768,1920x1080")
    parser.add_argument("--themes", default="light,dark")
    parser.add_argument("--login", default=None)
    parser.add_argument("--password", default=None)
    args = parser.parse_args(argv)
    if not os.environ.get("DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ["ERP_DESKTOP_HOME"] = args.home

    from PySide6.QtCore import QThreadPool
    from PySide6.QtWidgets import QApplication, QTabWidget

    from erp_desktop.app import app_config, device_info
    from erp_desktop.services import auth, demo
    from erp_desktop.settings import default_paths, load_settings
    from erp_desktop.ui.main import make_application
    from erp_desktop.ui.main_window import MainWindow
    from erp_desktop.ui.theme import apply_theme

    paths = default_paths()
    settings = load_settings(paths)
    config = app_config(paths, settings)
    device = device_info()
    company = paths.companies_dir / demo.DEMO_FILE_NAME
    if not company.exists():
        print(f"building the demo company in {company.parent} …", flush=True)
        company.parent.mkdir(parents=True, exist_ok=True)
        demo.create_demo_company(company, config=config, device=device)
    login = args.login or demo.OWNER_LOGIN
    password = args.password or next(u.password for u in demo.DEMO_USERS
                                     if u.login == login)
    app = make_application(["screenshots"])
    pool = QThreadPool.globalInstance()

    def settle(ms: int = 250) -> None:
        """Let the page's background loads finish and the window repaint."""
        end = time.monotonic() + 30
        while time.monotonic() < end:
            app.processEvents()
            if pool.activeThreadCount() == 0:
                break
            time.sleep(0.02)
        stop = time.monotonic() + ms / 1000
        while time.monotonic() < stop:
            app.processEvents()
            pool.waitForDone(20)

    ctx = auth.login(company, login, password, config=config, device=device)
    out_root = Path(args.out)
    sizes = [tuple(int(x) for x in s.split("x")) for s in args.sizes.split(",")]
    written = 0
    try:
        for theme in args.themes.split(","):
            apply_theme(app, theme)
            for width, height in sizes:
                out = out_root / f"{theme}-{width}"
                out.mkdir(parents=True, exist_ok=True)
                window = MainWindow(ctx, company_name="Sharma Electronics & Home",
                                    locale="en_IN")
                window.resize(width, height)
                window.show()
                settle()
                for number, area in enumerate(window.areas, start=1):
                    if args.only and area.key not in args.only:
                        continue
                    window.show_area(area.key)
                    settle(600)
                    page = window.page(area.key)
                    tabs = page.findChildren(QTabWidget)
                    top = [t for t in tabs if t.isVisible() and t.count() and not any(
                        isinstance(p, QTabWidget) for p in _parents(t, page))]
                    if not top:
                        name = out / f"{number:02d}-{area.key}.png"
                        window.grab().save(str(name))
                        written += 1
                        continue
                    tab_widget = top[0]
                    for index in range(tab_widget.count()):
                        if not tab_widget.isTabEnabled(index):
                            continue
                        tab_widget.setCurrentIndex(index)
                        settle(600)
                        label = _slug(tab_widget.tabText(index).replace("&", ""))
                        name = out / f"{number:02d}-{area.key}-{index + 1}-{label}.png"
                        window.grab().save(str(name))
                        written += 1
                window.close()
                settle()
                window.deleteLater()
                settle()
    finally:
        pool.waitForDone(30_000)
        ctx.close()
    print(f"{written} screenshots in {out_root}")
    QApplication.processEvents()
    return 0


def _parents(widget: object, stop: object) -> list[object]:
    found = []
    current = widget.parent()  # type: ignore[attr-defined]
    while current is not None and current is not stop:
        found.append(current)
        current = current.parent()
    return found


if __name__ == "__main__":
    sys.exit(main())

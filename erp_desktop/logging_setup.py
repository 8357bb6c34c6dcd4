"""Logging: a rotating file in the user log dir, never a secret or personal data.

Log calls pass ids and counts, not names. As a second line of defence a
filter masks anything that looks like a secret or an e-mail address or a
long digit run (phone, account, id numbers) before a record is written.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
from pathlib import Path

_PATTERNS = [
    (re.compile(r"(?i)(password|passphrase|secret|token|key)(\s*[=:]\s*)\S+"), r"\1\2***"),
    (re.compile(r"x'[0-9a-fA-F]{16,}'"), "x'***'"),
    (re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"), "<email>"),
    (re.compile(r"\b\d{8,}\b"), "<number>"),
]


def redact(text: str) -> str:
    for pattern, repl in _PATTERNS:
        text = pattern.sub(repl, text)
    return text


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


def setup_logging(log_dir: Path, level: str = "INFO", max_bytes: int = 1_000_000,
                  backups: int = 5) -> Path:
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / "erp_desktop.log"
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=max_bytes, backupCount=backups,
                                                   encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter())
    root = logging.getLogger()
    root.handlers = [h for h in root.handlers if not getattr(h, "_erp_desktop", False)]
    handler._erp_desktop = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)
    return path

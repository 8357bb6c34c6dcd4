"""Logs rotate and never carry secrets or personal data."""

import logging

from erp_desktop.logging_setup import redact, setup_logging


def test_redaction_masks_secrets_and_personal_data():
    line = ("password=hunter2-secret token: abc.def key='x'0123456789abcdef0123' "
            "mail asha@example.com phone 9876543210")
    out = redact(line)
    for leaked in ("hunter2-secret", "abc.def", "0123456789abcdef", "asha@example.com",
                   "9876543210"):
        assert leaked not in out


def test_log_file_rotates_and_is_redacted(tmp_path):
    assert setup_logging(tmp_path, "INFO", max_bytes=2_000, backups=2).name == "erp_desktop.log"
    log = logging.getLogger("erp_desktop.test")
    for i in range(200):
        log.info("event %d for passphrase=%s", i, "very-secret-phrase")
    for handler in logging.getLogger().handlers:
        handler.flush()
    files = sorted(tmp_path.glob("erp_desktop.log*"))
    assert len(files) == 3  # the live file and two rotated ones
    text = "".join(f.read_text() for f in files)
    assert "very-secret-phrase" not in text
    assert "passphrase=***" in text
    root = logging.getLogger()
    for h in [h for h in root.handlers if getattr(h, "_erp_desktop", False)]:
        root.removeHandler(h)
        h.close()


def test_engine_and_config_cache_defaults_agree():
    from erp_desktop.services.config import DEFAULT_CACHE_KIB as config_default
    from erp_desktop.store.engine import DEFAULT_CACHE_KIB as engine_default

    assert config_default == engine_default

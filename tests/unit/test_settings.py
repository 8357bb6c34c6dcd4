"""Per-installation settings rules."""

from __future__ import annotations

import pytest

from erp_desktop.domain.errors import ValidationError
from erp_desktop.settings import check_idle_lock_minutes


def test_the_idle_lock_is_whole_minutes_from_never_to_four_hours():
    assert check_idle_lock_minutes(0) == 0
    assert check_idle_lock_minutes(240) == 240
    for bad in (-1, 241, 2.5, "5", True, None):
        with pytest.raises(ValidationError) as caught:
            check_idle_lock_minutes(bad)
        assert caught.value.field == "idle_lock_minutes"

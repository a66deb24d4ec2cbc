"""analytics-backfill refuses a backwards range before touching any server (the roll-up itself:
tests/analytics/test_rollups.py)."""

from __future__ import annotations

import pytest

from app.cli.__main__ import main


def test_a_backwards_range_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analytics-backfill", "--start", "2031-01-02", "--end", "2031-01-01"]) == 2
    assert "--end is before --start" in capsys.readouterr().out


def test_a_bad_date_is_an_argument_error() -> None:
    with pytest.raises(SystemExit) as exited:
        main(["analytics-backfill", "--start", "yesterday", "--end", "2031-01-01"])
    assert exited.value.code == 2

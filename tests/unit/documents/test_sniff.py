"""Uploads are what their bytes say, not what they claim."""

from __future__ import annotations

import pytest

from app.documents.service import check_upload, sniff
from app.errors import Invalid, TooLarge, UnsupportedMedia

PDF, JPEG, PNG = b"%PDF-1.4\n...", b"\xff\xd8\xff\xdb...", b"\x89PNG\r\n\x1a\n..."


@pytest.mark.parametrize(
    ("data", "kind"), [(PDF, "application/pdf"), (JPEG, "image/jpeg"), (PNG, "image/png")]
)
def test_each_accepted_type_is_recognised_with_any_claimed_parameters(data: bytes, kind: str) -> None:
    assert sniff(data) == kind
    assert check_upload(data, f"{kind.upper()}; name=x", limit=100) == kind


@pytest.mark.parametrize(
    ("data", "claimed", "error"),
    [
        (PNG, "image/jpeg", UnsupportedMedia),
        (b"GIF89a....", "image/gif", UnsupportedMedia),
        (b"%PDF", "application/pdf", UnsupportedMedia),  # a truncated header is not a PDF
        (b"", "application/pdf", Invalid),
        (PDF + b"x" * 100, "application/pdf", TooLarge),
    ],
)
def test_mismatches_empty_and_oversize_files_are_refused(
    data: bytes, claimed: str, error: type[Exception]
) -> None:
    with pytest.raises(error):
        check_upload(data, claimed, limit=100)

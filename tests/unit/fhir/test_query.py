"""Search URLs for batched searches: the page size they ask for, and when an unpaged answer may be cut off."""

from __future__ import annotations

from app.fhir.query import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, counted, page_is_full


def test_a_search_url_without_a_page_size_gets_the_default_one() -> None:
    assert (
        counted("Appointment?patient=Patient/p1")
        == f"Appointment?patient=Patient/p1&_count={DEFAULT_PAGE_SIZE}"
    )


def test_a_search_url_keeps_the_page_size_it_asks_for() -> None:
    assert counted("Appointment?patient=Patient/p1&_count=7") == "Appointment?patient=Patient/p1&_count=7"


def test_an_answer_is_full_when_it_holds_as_many_matches_as_asked() -> None:
    assert page_is_full("Slot?_count=3", 3)
    assert not page_is_full("Slot?_count=3", 2)


def test_an_answer_is_full_at_hapis_largest_page_even_when_more_was_asked() -> None:
    asked = MAX_PAGE_SIZE * 2
    assert page_is_full(f"Slot?_count={asked}", MAX_PAGE_SIZE)
    assert not page_is_full(f"Slot?_count={asked}", MAX_PAGE_SIZE - 1)

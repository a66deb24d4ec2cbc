"""Pure helpers of the patient record: phones, tags, identifiers, age bands, sort keys and cursors."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from pydantic import ValidationError

from app.errors import Invalid
from app.fhir.canonical import SID_ABHA_NUMBER, SID_MRN, SID_PHONE
from app.patients import contacts, identifiers, listing
from app.patients.schemas import AddressIn, PatientIn, PatientOut

TODAY = date(2026, 11, 28)


def test_phones_keep_one_primary_first_and_each_is_an_identifier() -> None:
    patient: dict[str, object] = {"identifier": [{"system": "urn:x", "value": "1"}]}

    contacts.set_phones(
        patient,
        [
            contacts.Phone("+918041234567", "home"),
            contacts.Phone("+919844111173", "mobile", True),
            contacts.Phone("+918041234567", "work"),
        ],
    )

    assert patient["telecom"] == [
        {"system": "phone", "value": "+919844111173", "use": "mobile", "rank": 1},
        {"system": "phone", "value": "+918041234567", "use": "home", "rank": 2},
    ]
    assert patient["identifier"] == [
        {"system": SID_PHONE, "value": "+919844111173"},
        {"system": SID_PHONE, "value": "+918041234567"},
        {"system": "urn:x", "value": "1"},
    ]


def test_a_merged_duplicates_old_phone_identifier_survives_a_phone_change() -> None:
    old = {"system": SID_PHONE, "value": "+919000000009", "use": "old"}
    patient: dict[str, object] = {"identifier": [old], "telecom": []}

    contacts.set_phones(patient, [contacts.Phone("+919844111173")])

    assert old in patient["identifier"]  # type: ignore[operator]


def test_tags_are_replaced_and_read_back_once_each() -> None:
    patient: dict[str, object] = {}

    contacts.set_tags(patient, ["vip", "vip", "wheelchair"])
    tags = contacts.tags_of(patient)
    contacts.set_tags(patient, [])

    assert tags == ["vip", "wheelchair"]
    assert "extension" not in patient


def test_abha_numbers_are_stored_as_digits_and_shown_grouped() -> None:
    patient: dict[str, object] = {}

    identifiers.set_abha(patient, number="91-1234 5678-9012")

    assert patient["identifier"] == [{"system": SID_ABHA_NUMBER, "value": "91123456789012"}]
    assert identifiers.display_abha_number("91123456789012") == "91-1234-5678-9012"


def test_the_mrn_is_zero_padded_and_dates_the_registration() -> None:
    issued = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    patient = {"identifier": [identifiers.mrn_identifier(identifiers.format_mrn("SUN", 123), issued=issued)]}

    assert identifiers.identifier_of(patient, SID_MRN) == "SUN-000123"
    assert identifiers.registered_at(patient) == "2026-11-28T10:00:00+00:00"


@pytest.mark.parametrize(
    ("born", "band"),
    [
        ("2008-11-29", "0-17"),
        ("2008-11-28", "18-39"),
        ("1986-11-29", "18-39"),
        ("1986-11-28", "40-59"),
        ("1966-11-28", "60+"),
        ("1990", "18-39"),
        ("1966-12", "40-59"),
        (None, None),
        ("garbage", None),
    ],
)
def test_age_bands_count_birthdays(born: str | None, band: str | None) -> None:
    assert listing.age_band_of(born, TODAY) == band


@pytest.mark.parametrize("band", list(listing.AGE_BANDS))
def test_the_birthdate_search_of_a_band_agrees_with_the_band_of_its_edges(band: str) -> None:
    day = timedelta(days=1)
    for parameter, condition in listing._birthdate_range(band, TODAY):
        edge = date.fromisoformat(condition[2:])
        assert parameter == "birthdate"
        if condition.startswith("le"):  # the youngest in the band, and the day after: younger
            assert listing.age_band_of(edge.isoformat(), TODAY) == band
            assert listing.age_band_of((edge + day).isoformat(), TODAY) != band
        else:  # gt: the edge itself is too old, the day after is in the band
            assert listing.age_band_of(edge.isoformat(), TODAY) != band
            assert listing.age_band_of((edge + day).isoformat(), TODAY) == band


def _row(pid: str, name: str) -> listing.Row:
    return listing.Row({"id": pid, "name": [{"text": name}]})


@pytest.mark.parametrize("sort", ["name", "-name"])
def test_name_keys_order_prefixes_both_ways_and_survive_the_cursor(sort: listing.Sort) -> None:
    rows = [_row("1", "Ab"), _row("2", "Abc"), _row("3", "Aa")]

    keys = sorted(listing.sort_key(r, sort) for r in rows)
    ids = [k[2] for k in keys]
    cursor = listing.encode_cursor(sort, keys[0])

    assert ids == (["3", "1", "2"] if sort == "name" else ["2", "1", "3"])
    assert listing.decode_cursor(cursor, sort) == keys[0]


def test_rows_without_the_sorted_value_come_last_either_way() -> None:
    rows = [listing.Row({"id": "a"}), listing.Row({"id": "b"}, last_visit=datetime(2026, 1, 1, tzinfo=UTC))]

    for sort in ("last_visit", "-last_visit"):
        assert [k[2] for k in sorted(listing.sort_key(r, sort) for r in rows)] == ["b", "a"]  # type: ignore[arg-type]


def test_a_foreign_cursor_is_invalid() -> None:
    with pytest.raises(Invalid, match="is not a cursor"):
        listing.decode_cursor("%%%", "name")


def test_an_address_needs_a_pin_of_six_digits_and_an_indian_state() -> None:
    ok = AddressIn(line="12 MG Road", city="Bengaluru", state="tamil nadu", postal_code="600001")  # type: ignore[arg-type]

    assert (ok.line, ok.state) == (["12 MG Road"], "Tamil Nadu")
    for bad in ({"postal_code": "060001"}, {"postal_code": "6000011"}, {"state": "Narnia"}, {"line": []}):
        with pytest.raises(ValidationError):
            AddressIn(**{"line": ["1"], "city": "X", "state": "Goa", "postal_code": "403001", **bad})


def test_registration_needs_a_phone_or_phones_and_one_primary_at_most() -> None:
    with pytest.raises(ValidationError, match="give phone or phones"):
        PatientIn(name="A B")
    with pytest.raises(ValidationError, match="only one phone can be primary"):
        PatientIn(name="A B", phones=[{"number": "1", "primary": True}, {"number": "2", "primary": True}])  # type: ignore[list-item]
    assert (
        PatientIn(name="A B", phones=[{"number": "1"}, {"number": "2", "primary": True}]).main_phone() == "2"
    )  # type: ignore[list-item]


def test_a_patient_others_wrote_without_contacts_reads() -> None:
    out = PatientOut.of(
        {"resourceType": "Patient", "id": "x", "address": [{"city": "Pune"}], "contact": [{}]}
    )

    assert (out.phones, out.email, out.mrn, out.emergency_contact) == ([], None, None, None)
    assert out.address is not None and out.address.city == "Pune"

"""API models of the clinic directory."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

from app.directory.index import RoleEntry
from app.directory.resources import format_hours
from app.inputs import FhirId, InputModel
from app.vocabulary import Gender

# {"mon": ["09:00-13:00"], ...}: weekday -> local time ranges
HoursMap = dict[str, list[str]]


class HoursIn(InputModel):
    """Weekly hours."""

    hours: HoursMap = Field(examples=[{"mon": ["09:00-13:00"], "sat": ["09:00-12:00"]}])


class OrganizationIn(InputModel):
    """A clinic (organization)."""

    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=32)


class LocationIn(InputModel):
    """A branch."""

    name: str = Field(min_length=1, max_length=200)
    organization: FhirId = Field(description="Organization id")
    timezone: str = Field(default="Asia/Kolkata", description="IANA time zone")
    address: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=100)


class DepartmentIn(InputModel):
    """A department (HealthcareService) of one specialty."""

    name: str = Field(min_length=1, max_length=200)
    specialty: str = Field(description="Specialty code, e.g. cardiology")
    organization: FhirId
    locations: list[str] = Field(default_factory=list, description="Location ids")
    consultation_fee: Decimal | None = Field(
        default=None, ge=0, le=10_000_000, decimal_places=2, description="Fee of a consultation, in INR"
    )


class PractitionerIn(InputModel):
    """A practitioner with their role, weekly hours and slot length."""

    name: str = Field(min_length=1, max_length=200, description="Full name without title")
    prefix: str | None = Field(default="Dr.", max_length=20)
    gender: Gender | None = None
    specialty: str
    organization: FhirId
    location: FhirId
    department: FhirId | None = None
    hours: HoursMap = Field(default_factory=dict)
    slot_minutes: int = Field(default=15, ge=5, le=240)


class Created(BaseModel):
    """The id of what was created."""

    id: str
    reference: str


class PractitionerOut(BaseModel):
    """A practitioner in one role: what they practise, where and when."""

    id: str = Field(description="Practitioner id")
    name: str
    practitioner_role: str
    specialty: str | None
    location: str | None
    location_name: str | None
    timezone: str
    department: str | None
    schedule: str | None
    slot_minutes: int
    hours: HoursMap

    @classmethod
    def of(cls, role: RoleEntry) -> PractitionerOut:
        """From the directory index."""
        return cls(
            id=role.practitioner_id,
            name=role.practitioner_name,
            practitioner_role=role.role_id,
            specialty=role.specialty,
            location=role.location_id,
            location_name=role.location_name,
            timezone=str(role.timezone),
            department=role.department_id,
            schedule=role.schedule_id,
            slot_minutes=role.slot_minutes,
            hours=format_hours(role.hours),
        )


class PractitionerUpdate(InputModel):
    """Changes to a practitioner; fields left out stay as they are."""

    not_null = frozenset({"name"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    prefix: str | None = Field(default=None, max_length=20)
    gender: Gender | None = None
    active: bool | None = None


class LocationUpdate(InputModel):
    """Changes to a branch; fields left out stay as they are."""

    not_null = frozenset({"name", "timezone"})

    name: str | None = Field(default=None, min_length=1, max_length=200)
    timezone: str | None = None
    address: str | None = Field(default=None, max_length=500)
    city: str | None = Field(default=None, max_length=100)

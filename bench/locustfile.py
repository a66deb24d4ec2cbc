"""The clinic's mixed workload for locust (driven by `python -m bench.load`): staff search free slots,
book them and open patient 360s while patients write on WhatsApp. Each simulated user talks to one
API replica (round robin over PRM_LOAD_HOSTS), as a load balancer would spread them."""

from __future__ import annotations

import itertools
import json
import os
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

from tests.support.twilio import INBOUND_PATH, inbound_form, signed_headers

HOSTS = os.environ.get("PRM_LOAD_HOSTS", "http://127.0.0.1:8000").split(",")
KEY = os.environ.get("PRM_LOAD_KEY", "")
TWILIO_TOKEN = os.environ.get("PRM_LOAD_TWILIO_TOKEN", "")
PUBLIC_URL = os.environ.get("PRM_LOAD_PUBLIC_URL", HOSTS[0])
# Patients (id, phone) and specialties, written by bench/load.py before it starts locust.
FIXTURE: dict[str, Any] = json.loads(
    Path(os.environ.get("PRM_LOAD_FIXTURE", "/dev/null")).read_text() or "{}"
)
SEARCH_DAYS = 3
HORIZON_DAYS = 12
# "Booked" and "slot taken" are both right answers under contention (the runner counts the bookings
# HAPI holds afterwards); any other status is an error.
BOOKING_OK = (201, 409)
_next_host = itertools.cycle(HOSTS)


class ClinicUser(HttpUser):
    """One receptionist-or-patient: mostly searches and reads, some bookings and chat messages."""

    wait_time = between(0.5, 1.5)
    host = HOSTS[0]

    def on_start(self) -> None:
        """Pin this user to one replica and remember the free slots it saw last."""
        self.base = next(_next_host)
        self.headers = {"Authorization": f"Bearer {KEY}"}
        self.seen: list[str] = []

    @task(5)
    def search_slots(self) -> None:
        """Free slots of one specialty over a few days."""
        start = datetime.now(UTC) + timedelta(days=random.randrange(HORIZON_DAYS - SEARCH_DAYS))
        params = {
            "specialty": random.choice(FIXTURE["specialties"]),
            "start": start.isoformat(),
            "end": (start + timedelta(days=SEARCH_DAYS)).isoformat(),
            "limit": "20",
        }
        with self.client.get(
            f"{self.base}/api/v1/slots", params=params, headers=self.headers, name="search slots",
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            self.seen = [slot["id"] for slot in response.json()]

    @task(1)
    def book(self) -> None:
        """Book one of the slots this user saw, for a random patient."""
        if not self.seen:
            return
        body = {"slot": random.choice(self.seen), "patient": random.choice(FIXTURE["patients"])["id"]}
        with self.client.post(
            f"{self.base}/api/v1/appointments", json=body, headers=self.headers, name="book",
            catch_response=True,
        ) as response:  # fmt: skip
            if response.status_code in BOOKING_OK:
                response.success()
            else:
                response.failure(f"status {response.status_code}")
            self.seen = []

    @task(3)
    def read_360(self) -> None:
        """A patient's 360."""
        patient = random.choice(FIXTURE["patients"])["id"]
        self.client.get(
            f"{self.base}/api/v1/patients/{patient}/360", headers=self.headers, name="patient 360"
        )

    @task(2)
    def whatsapp(self) -> None:
        """A patient writes on WhatsApp: the signed webhook is acknowledged; the bot answers in a worker."""
        sender = random.choice(FIXTURE["patients"])["phone"]
        form = inbound_form(sender=sender, text=random.choice(("hi", "menu", "my appointments")))
        headers = signed_headers(TWILIO_TOKEN, f"{PUBLIC_URL}{INBOUND_PATH}", form)
        self.client.post(f"{self.base}{INBOUND_PATH}", data=form, headers=headers, name="whatsapp webhook")

"""No-show risk backtest: a seeded synthetic clinic history (patients with their own habits), the model
fitted on the first 70 % of appointments by date, and the AUC on the last 30 % beside the heuristic's.

The history is pure data (Appointment resources as HAPI returns them), so the backtest needs no server:
`.venv/bin/python -m bench.noshow`.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from app.fhir.builders import extension, instant
from app.fhir.canonical import EXT_BOOKING_CHANNEL
from app.fhir.client import Resource
from app.outreach.model import HEURISTIC_MODEL, OUTCOME, auc, features, fit
from app.scheduling.resources import CONFIRMED_NOTE
from app.vocabulary import Channel

TZ = ZoneInfo("Asia/Kolkata")
START = datetime(2025, 1, 1, tzinfo=UTC)


def synthetic_history(*, patients: int = 400, visits: int = 8, seed: int = 7) -> list[Resource]:
    """Appointments of `patients` patients over a year; whether each came follows a hidden logistic rule
    (a habit per patient, lead time, early hours, confirmation, phone bookings)."""
    rng = random.Random(seed)
    history: list[Resource] = []
    for p in range(patients):
        habit = rng.gauss(-2.4, 1.1)  # some patients rarely come, most usually do
        for v in range(rng.randint(2, visits)):
            start = START + timedelta(
                days=rng.randint(0, 360), hours=rng.choice([8, 9, 10, 11, 14, 15, 17, 18])
            )
            lead = rng.choice([0, 1, 2, 5, 10, 20, 40])
            confirmed = rng.random() < 0.4
            channel = rng.choice(list(Channel))
            logit = habit + 0.04 * lead + (0.5 if start.hour < 10 or start.hour >= 17 else 0)
            logit += -1.3 * confirmed + (0.4 if channel in (Channel.VOICE, Channel.DASHBOARD) else 0)
            roll = rng.random()
            status = (
                "cancelled"
                if roll < 0.08
                else ("noshow" if rng.random() < 1 / (1 + math.exp(-logit)) else "fulfilled")
            )
            appointment: Resource = {
                "resourceType": "Appointment",
                "id": f"a{p}-{v}",
                "status": status,
                "start": instant(start),
                "created": instant(start - timedelta(days=lead)),
                "extension": [extension(EXT_BOOKING_CHANNEL, valueCode=channel.value)],
                "participant": [{"actor": {"reference": f"Patient/p{p}"}}],
            }
            if confirmed:
                appointment["comment"] = CONFIRMED_NOTE
            history.append(appointment)
    return history


def backtest(history: list[Resource]) -> dict[str, float]:
    """Fit on the earliest 70 % (by start), score the rest: AUC of the fitted model and of the heuristic."""
    by_patient: dict[str, list[Resource]] = {}
    for a in history:
        by_patient.setdefault(a["participant"][0]["actor"]["reference"], []).append(a)
    scored = [a for a in history if a["status"] in OUTCOME]
    scored.sort(key=lambda a: str(a["start"]))
    rows = [
        (features(a, by_patient[a["participant"][0]["actor"]["reference"]], tz=TZ), OUTCOME[a["status"]])
        for a in scored
    ]
    cut = int(len(rows) * 0.7)
    train, test = rows[:cut], rows[cut:]
    model = fit([r for r, _ in train], [o for _, o in train])
    if model is None:
        raise RuntimeError("not enough history to fit")
    outcomes = [o for _, o in test]
    return {
        "train": float(len(train)),
        "test": float(len(test)),
        "no_show_rate": sum(outcomes) / len(outcomes),
        "auc_fitted": auc([model.score(r).probability for r, _ in test], outcomes),
        "auc_heuristic": auc([HEURISTIC_MODEL.score(r).probability for r, _ in test], outcomes),
    }


def main() -> None:
    """Print the backtest's figures."""
    figures = backtest(synthetic_history())
    print(
        f"no-show backtest: train {figures['train']:.0f}, test {figures['test']:.0f}, "
        f"no-show rate {figures['no_show_rate']:.1%}; AUC fitted {figures['auc_fitted']:.3f} "
        f"vs heuristic {figures['auc_heuristic']:.3f}"
    )


if __name__ == "__main__":
    main()

"""No-show risk, explainable: a logistic model over a few features of an appointment and the patient's own
history. The weights are either the documented heuristic (HEURISTIC) or fitted on the clinic's own past
appointments (`fit`, plain numpy: regularised logistic regression by Newton's method), once there are
MIN_TRAINING outcomes with at least MIN_PER_CLASS of each. Every score lists each feature's contribution
to the log-odds, largest first, so staff see why.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from app.fhir.client import Resource
from app.fhir.dates import parse_datetime
from app.scheduling.resources import channel_of, confirmed_by_patient
from app.vocabulary import Channel

# Outcomes a past appointment had: 1 = did not come, 0 = came.
OUTCOME = {"noshow": 1, "fulfilled": 0, "arrived": 0}
MIN_TRAINING = 200
MIN_PER_CLASS = 20
# Capped counts: the fifth no-show says little more than the third.
CAP = 3
LEAD_CAP_DAYS = 60.0

FEATURES: tuple[str, ...] = (
    "past_no_shows",
    "past_cancellations",
    "first_visit",
    "lead_time_days",
    "early_or_late_hour",
    "monday_or_saturday",
    "reminder_confirmed",
    "booked_by_phone_or_walk_in",
)

# The documented heuristic: the log-odds each feature adds (intercept: a 7 % base rate).
HEURISTIC_INTERCEPT = -2.6
HEURISTIC: dict[str, float] = {
    "past_no_shows": 0.9,
    "past_cancellations": 0.35,
    "first_visit": 0.5,
    "lead_time_days": 0.03,
    "early_or_late_hour": 0.3,
    "monday_or_saturday": 0.2,
    "reminder_confirmed": -1.2,
    "booked_by_phone_or_walk_in": 0.3,
}
_PHONE_OR_WALK_IN = {Channel.VOICE.value, Channel.DASHBOARD.value}


@dataclass(frozen=True)
class Factor:
    """One feature's value and what it added to the log-odds."""

    name: str
    value: float
    contribution: float


@dataclass(frozen=True)
class Score:
    """A probability of not coming, the model that gave it, and why."""

    probability: float
    model: str
    factors: list[Factor]


@dataclass(frozen=True)
class Model:
    """Logistic weights per feature and an intercept."""

    name: str
    intercept: float
    weights: dict[str, float]

    def score(self, features: dict[str, float]) -> Score:
        """The probability for these features, with each factor's contribution (largest first)."""
        factors = [Factor(n, features[n], self.weights[n] * features[n]) for n in FEATURES]
        logit = self.intercept + sum(f.contribution for f in factors)
        factors.sort(key=lambda f: -abs(f.contribution))
        return Score(
            probability=_sigmoid(logit), model=self.name, factors=[f for f in factors if f.contribution]
        )


HEURISTIC_MODEL = Model("heuristic", HEURISTIC_INTERCEPT, HEURISTIC)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x >= 0 else math.exp(x) / (1.0 + math.exp(x))


def features(appointment: Resource, history: Sequence[Resource], *, tz: ZoneInfo) -> dict[str, float]:
    """The features of an appointment given the patient's earlier appointments (any status)."""
    start = parse_datetime(appointment.get("start"))
    created = parse_datetime(appointment.get("created")) or start
    earlier = [h for h in history if _before(h, start)]
    statuses = [h.get("status") for h in earlier]
    local = start.astimezone(tz) if start else None
    lead = (start - created).total_seconds() / 86400 if start and created else 0.0
    return {
        "past_no_shows": float(min(statuses.count("noshow"), CAP)),
        "past_cancellations": float(min(statuses.count("cancelled"), CAP)),
        "first_visit": float(not any(s in ("fulfilled", "arrived") for s in statuses)),
        "lead_time_days": min(max(lead, 0.0), LEAD_CAP_DAYS),
        "early_or_late_hour": float(local is not None and (local.hour < 10 or local.hour >= 17)),
        "monday_or_saturday": float(local is not None and local.weekday() in (0, 5)),
        "reminder_confirmed": float(confirmed_by_patient(appointment)),
        "booked_by_phone_or_walk_in": float(channel_of(appointment) in _PHONE_OR_WALK_IN),
    }


def _before(other: Resource, start: datetime | None) -> bool:
    when = parse_datetime(other.get("start"))
    return start is not None and when is not None and when < start


def fit(rows: Sequence[dict[str, float]], outcomes: Sequence[int], *, l2: float = 1.0) -> Model | None:
    """A logistic regression fitted on past outcomes, or None when there are too few of either kind."""
    y = np.asarray(outcomes, dtype=float)
    if len(y) < MIN_TRAINING or min(int(y.sum()), int(len(y) - y.sum())) < MIN_PER_CLASS:
        return None
    x = np.column_stack([np.ones(len(rows)), np.asarray([[r[n] for n in FEATURES] for r in rows])])
    w = np.zeros(x.shape[1])
    penalty = np.eye(x.shape[1]) * l2
    penalty[0, 0] = 0.0  # the intercept is not shrunk
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        gradient = x.T @ (p - y) + penalty @ w
        hessian = (x.T * (p * (1 - p))) @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        w -= step
        if float(np.abs(step).max()) < 1e-8:
            break
    return Model("fitted", float(w[0]), {n: float(v) for n, v in zip(FEATURES, w[1:], strict=True)})


def auc(scores: Sequence[float], outcomes: Sequence[int]) -> float:
    """The area under the ROC curve (the chance a no-show outranks a visit; ties count half)."""
    pos = [s for s, o in zip(scores, outcomes, strict=True) if o]
    neg = [s for s, o in zip(scores, outcomes, strict=True) if not o]
    if not pos or not neg:
        return 0.5
    ranks = np.argsort(np.argsort(np.asarray(list(pos) + list(neg)), kind="stable"), kind="stable") + 1.0
    # Average ranks over ties (Mann-Whitney U).
    values = np.asarray(list(pos) + list(neg))
    for v in np.unique(values):
        same = values == v
        ranks[same] = ranks[same].mean()
    u = ranks[: len(pos)].sum() - len(pos) * (len(pos) + 1) / 2
    return float(u / (len(pos) * len(neg)))

"""pass^k harness under respx: the labelled set interpreted k=5 times through the remote-model path
(simulated OpenAI-compatible endpoint, no offline fallback) against the demo clinic in the real HAPI."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import respx

from app.config import Settings
from app.fhir.client import FhirClient
from app.main import create_app
from bench.assistant_passk import (
    KEY,
    SIMULATED_BASE_URL,
    USER,
    SimulatedModel,
    examples,
    run_passk,
    settings_for,
    written_since,
)
from tests.conftest import started
from tests.factories import person_name, phone

pytestmark = pytest.mark.integration


async def test_pass_k_over_the_labelled_set_with_no_unconfirmed_write(
    settings: Settings, demo_clinic: None, fhir: FhirClient
) -> None:
    app = create_app(settings_for(settings.fhir_base_url, settings.redis_url))
    model = SimulatedModel()
    labelled = examples()
    with respx.mock(assert_all_called=True) as router:
        completions = router.post(f"{SIMULATED_BASE_URL}/chat/completions").mock(side_effect=model)
        router.route().pass_through()
        async for api in started(app):
            headers = {"Authorization": f"Bearer {KEY}"}
            result = await run_passk(api, headers, fhir, labelled, k=5)
            # The counter sees a write the harness's user makes: a confirmed registration.
            before = datetime.now(UTC)
            plan = await api.post(
                "/api/v1/assistant/interpret",
                json={"text": f"Register a new patient: {person_name()}, phone {phone()}"},
                headers=headers,
            )
            await api.post(f"/api/v1/assistant/plans/{plan.json()['plan_id']}/confirm", headers=headers)
            confirmed_writes = await written_since(fhir, before, user=USER)

    print("\n" + "\n".join(result.lines()))  # noqa: T201
    assert completions.call_count == 5 * len(labelled) + 1
    assert result.unconfirmed_writes == 0
    assert result.pass_1 == 1.0
    assert result.pass_k == 1.0
    assert confirmed_writes >= 1

"""docs/ROADMAP.md and docs/architecture.md name only what exists: API operations exactly as the OpenAPI
spells them, repository paths and modules, jobs and settings; the architecture's layers are pyproject's."""

from __future__ import annotations

import tomllib

import pytest

from tests.support.servers import ROOT
from tests.unit.docs.names import missing_names, missing_operations, operations, read

DOCS = ["docs/ROADMAP.md", "docs/architecture.md"]


@pytest.mark.parametrize("doc", DOCS)
def test_every_operation_the_doc_names_is_in_the_openapi(doc: str) -> None:
    text = read(ROOT / doc)

    assert len(set(operations(text))) >= 10, "the doc names the endpoints it relies on"
    assert missing_operations(text) == []


@pytest.mark.parametrize("doc", DOCS)
def test_every_path_module_job_and_setting_the_doc_names_exists(doc: str) -> None:
    assert missing_names(read(ROOT / doc)) == []


def test_a_misspelt_name_is_caught() -> None:
    text = (
        "`POST /api/v1/tickets/{ticket_id}/close` and `GET /api/v1/tickets/{id}`; "
        "`app/tickets/service.py`, `app/tickets/servise.py`, `app.tickets.sla`, `app.tickets.slaa`, "
        "`workers/registry.py` `JOBS`, `Job.SEND_MESSAGE`, `Job.SEND_MESAGE`, `SEND_DUE_REMINDERS`, "
        "`SEND_DUE_REMINDER`, `PRM_REDIS_URL`, `PRM_REDIS_URI`"
    )

    assert missing_operations(text) == ["GET /api/v1/tickets/{id}"]
    assert missing_names(text) == [
        "Job.SEND_MESAGE",
        "PRM_REDIS_URI",
        "SEND_DUE_REMINDER",
        "app.tickets.slaa",
        "app/tickets/servise.py",
    ]


def test_the_architecture_shows_the_capability_layers_exactly_as_import_linter_enforces_them() -> None:
    contracts = tomllib.loads(read(ROOT / "pyproject.toml"))["tool"]["importlinter"]["contracts"]
    [layers] = [c["layers"] for c in contracts if c["type"] == "layers"]
    text = read(ROOT / "docs/architecture.md")
    block = "\n".join(f"  {layer}" for layer in layers)

    assert f"  ```\n{block}\n  ```" in text

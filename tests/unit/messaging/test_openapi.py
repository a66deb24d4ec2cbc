"""The template API documents its own error statuses in the one error shape."""

from __future__ import annotations

from tests.unit.app.test_openapi import ERROR_BODY, openapi_document


def test_template_operations_document_their_error_statuses() -> None:
    paths = openapi_document()["paths"]

    render = paths["/api/v1/templates/{name}/render"]["post"]["responses"]
    read = paths["/api/v1/templates/{name}"]["get"]["responses"]
    listing = paths["/api/v1/templates"]["get"]["responses"]

    assert {"200", "401", "404", "422"} <= set(render)
    assert render["404"]["content"] == ERROR_BODY
    assert render["422"]["content"] == ERROR_BODY
    assert read["404"]["content"] == ERROR_BODY
    assert "404" not in listing
    assert render["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/RenderedOut"
    }

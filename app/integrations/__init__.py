"""EHR integration: acting on what EHRs write through /fhir, registered delivery endpoints, bulk export."""

"""Segments: saved patient filters (FHIR Group, profile prm-segment), evaluated on demand."""

"""The FHIR gateway: the only code that talks to HAPI."""

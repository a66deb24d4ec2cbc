"""Analytics: reports computed from FHIR searches (appointments, leads, tickets, messages, calls)."""

"""Ports: what the core needs from the outside world, as Protocols and vendor-neutral DTOs, one module
per concern (jobs, state, messaging, nlu, speech, clock).

Concrete adapters live in `adapters/` and `workers/`; only the composition root (`build_services`)
chooses them.
"""

"""The PRM's conformance content (profiles, terminology, search parameters, examples) and its loader."""

from app.conformance.loader import (
    PROFILES_DIR,
    ConformanceError,
    LoadReport,
    load_conformance,
    read_conformance_resources,
    read_examples,
)

__all__ = [
    "PROFILES_DIR",
    "ConformanceError",
    "LoadReport",
    "load_conformance",
    "read_conformance_resources",
    "read_examples",
]

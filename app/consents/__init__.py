"""Consents: who may be contacted on which channel."""

"""Outbound messages to patients."""

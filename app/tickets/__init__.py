"""Tickets: work for staff."""

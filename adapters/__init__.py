"""Adapters: one folder per vendor, turning vendor shapes into the DTOs of app.ports."""

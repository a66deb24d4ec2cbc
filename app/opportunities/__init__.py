"""Opportunities (leads) and their pipeline."""

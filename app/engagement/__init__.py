"""Engagement: how engaged a patient is, from their own visits, replies, confirmations and no-shows."""

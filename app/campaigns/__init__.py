"""Campaigns: a message to a segment on a schedule, sent through the messaging pipeline (docs/campaigns.md)."""

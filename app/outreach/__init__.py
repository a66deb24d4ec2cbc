"""Outreach and automation: the waitlist that refills freed slots, no-show risk, care gaps."""

"""Twilio: WhatsApp and SMS."""

"""A patient's single timeline: appointments, messages, calls, tickets and journey steps, newest first."""

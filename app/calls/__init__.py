"""Calls: what a voice agent's post-call event becomes (a prm-communication with its recording and
transcript, the caller's patient, a booking or a ticket), and the live tools it calls during a call."""

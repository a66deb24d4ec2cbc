"""Availability and appointments: slots from weekly hours, holds, bookings, and their jobs."""

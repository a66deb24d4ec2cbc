"""Pure text helpers shared by the core and the adapters: time phrases, specialties, phone numbers."""

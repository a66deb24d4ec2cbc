"""The WhatsApp bot: its conversation engine and the pure helpers it reads text with."""

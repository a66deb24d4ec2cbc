"""Speech to text: OpenAI's transcription API, and offline recognition with pocketsphinx."""

"""Intent extractors: an OpenAI-compatible model, and the offline rule-based one."""

"""The AI assistant: staff instructions in, previewed plans out."""

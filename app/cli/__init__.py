"""Command-line tools for people trying the running stack (`python -m app.cli <command>`, or `prm`)."""

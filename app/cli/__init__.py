"""Command-line tools for integrators: `python -m app.cli <command>`."""

"""Pure tests: no servers (the root conftest refuses server fixtures to tests not marked integration)."""

"""A test-only app with encrypted fields, installed by tests/settings.py only."""

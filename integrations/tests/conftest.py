"""The Roblox fixtures (integrations/tests/fixtures.py) for every integration test."""

from integrations.tests.fixtures import _jitter_at_upper_bound, _roblox_settings, _tasks_run_inline, rsps, sleeps

__all__ = ["_jitter_at_upper_bound", "_roblox_settings", "_tasks_run_inline", "rsps", "sleeps"]

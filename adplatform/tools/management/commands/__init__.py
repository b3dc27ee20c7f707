"""runplatform, seed_demo, simulate_game."""

"""Models: profiles, the endpoints agents call, built-in baselines, and pricing."""

"""Real local peers the tests talk to (fake provider servers and the like)."""

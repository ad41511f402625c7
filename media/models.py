"""media models."""

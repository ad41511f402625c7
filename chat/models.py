"""chat models."""

"""Surfaces beyond roofs: facades (BIPV) and other sites around buildings."""

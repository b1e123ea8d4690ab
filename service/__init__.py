"""Fact-checking service for newsrooms."""

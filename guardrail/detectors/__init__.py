"""Detectors: pure logic that turns events and metric samples into findings; they never call AWS."""

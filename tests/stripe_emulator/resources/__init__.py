"""Tests of each emulated resource."""

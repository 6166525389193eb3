"""Readers and writers: the only modules of roofpv that touch files."""

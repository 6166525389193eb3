"""Surfaces beyond roofs: facades (BIPV), carports and corridors, tank covers, greenhouses and rural yards."""

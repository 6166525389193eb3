"""Surfaces beyond roofs: facades, carports and corridors, tank covers, greenhouses, rural yards."""

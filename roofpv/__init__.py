"""roofpv: rooftop-PV potential, yield and policy coverage, township by township."""

__version__ = "0.1.0"

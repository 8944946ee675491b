"""fairslot: a unified, fair slot pool between hospital systems and booking channels."""

__version__ = "0.1.0"

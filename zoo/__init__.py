"""zoo: fast face-alignment models — train, export, benchmark, evaluate and track."""

__version__ = "0.1.0"

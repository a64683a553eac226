"""EcomVideo AI shared layer: settings, database, models, schemas, services and providers."""

__version__ = "0.1.0"

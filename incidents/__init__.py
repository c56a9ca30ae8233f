"""incidents: an attack-incident timeline database with sourced tolls and attributions."""

__version__ = "0.1.0"

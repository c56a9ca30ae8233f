"""Files in and out: importers/ (one module per format, YAML fixtures included), importing.py (an import run),
exports.py and charts.py."""

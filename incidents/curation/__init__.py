"""Curation across records: duplicates.py (candidate pairs of one attack) and merging.py (merge and unmerge)."""

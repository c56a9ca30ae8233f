"""Reading and aggregating: filters.py, sql.py (shared SQL helpers), reads.py (lists, one incident, history),
timelines.py, summaries.py and asof.py (what was known on a given day)."""

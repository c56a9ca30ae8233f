"""All writes: incidents.py (one incident record), actors.py (the registry), sources.py (sources and places),
figures.py (tolls from reports), revisions.py (the change log), edits.py (an analyst's edits), imports.py
(import runs) and bulk.py (the fast path of imports)."""

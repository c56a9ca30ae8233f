"""The static site `incidents site` writes: build.py gathers and writes it, svg.py draws the timeline and the map,
templates/ holds the pages (Jinja2) and static/ the style sheet and the one script."""

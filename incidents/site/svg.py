"""The site's pictures as inline SVG, drawn here so the pages need nothing from the network: a timeline with the
low-high band of the killed, and a map of incidents over country outlines (Natural Earth, shipped with the
project; see incidents.gazetteer.outline_rings)."""

from __future__ import annotations

import html
from typing import Any

# How precisely a location is known, by geo_precision: a point is drawn as a point only when it says where the
# attack was to within a town; a district's or province's point is the middle of an area and is drawn as one.
POINT_PRECISIONS = {"exact", "place", "gazetteer_place"}
AREA_PRECISIONS = {"district", "gazetteer_district"}


def timeline_svg(periods: list[dict[str, Any]], width: int = 760, height: int = 220) -> str:
    """Bars of incidents per period and a line of the killed (best) inside a band from the lowest to the highest
    figure the reports give. `periods`: dicts with label, incidents, killed_low, killed_best, killed_high."""
    if not periods:
        return '<p class="empty">No incidents in this selection.</p>'
    left, right, top, bottom = 48, 12, 12, 36
    plot_w, plot_h = width - left - right, height - top - bottom
    most_incidents = max(p["incidents"] for p in periods) or 1
    most_killed = max(max(p["killed_high"] or 0, p["killed_best"] or 0) for p in periods) or 1
    step = plot_w / len(periods)

    def x(index: int) -> float:
        return left + step * index + step / 2

    def y_killed(value: float) -> float:
        return top + plot_h - plot_h * value / most_killed

    parts = [f'<svg class="timeline" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="Incidents and killed per period">']
    for index, period in enumerate(periods):  # incidents as pale bars, on their own scale
        bar = plot_h * period["incidents"] / most_incidents
        parts.append(f'<rect class="bar" x="{x(index) - step * 0.35:.1f}" y="{top + plot_h - bar:.1f}" '
                     f'width="{step * 0.7:.1f}" height="{bar:.1f}"><title>{html.escape(period["label"])}: '
                     f'{period["incidents"]} incidents, killed {period["killed_best"]} '
                     f'({period["killed_low"]}-{period["killed_high"]})</title></rect>')
    band_top = [f"{x(i):.1f},{y_killed(p['killed_high'] or 0):.1f}" for i, p in enumerate(periods)]
    band_bottom = [f"{x(i):.1f},{y_killed(p['killed_low'] or 0):.1f}" for i, p in reversed(list(enumerate(periods)))]
    parts.append(f'<polygon class="band" points="{" ".join(band_top + band_bottom)}"/>')
    line = " ".join(f"{x(i):.1f},{y_killed(p['killed_best'] or 0):.1f}" for i, p in enumerate(periods))
    parts.append(f'<polyline class="best" points="{line}"/>')
    parts.append(f'<text class="axis" x="{left - 6}" y="{top + 10}" text-anchor="end">{most_killed}</text>')
    parts.append(f'<text class="axis" x="{left - 6}" y="{top + plot_h}" text-anchor="end">0</text>')
    every = max(1, len(periods) // 12)
    for index, period in enumerate(periods):
        if index % every == 0:
            parts.append(f'<text class="axis" x="{x(index):.1f}" y="{height - 14}" text-anchor="middle">'
                         f'{html.escape(period["label"])}</text>')
    parts.append("</svg>")
    return "".join(parts)


def map_svg(points: list[dict[str, Any]], rings: dict[str, list[Any]], box: tuple[float, float, float, float],
            width: int = 760, link_prefix: str = "", provinces: dict[str, list[Any]] | None = None) -> str:
    """Incidents over country outlines, in an equirectangular projection of `box` (west, south, east, north).
    A point known to a town or better is a dot; one known to its district is a ring the size of a district; one
    known only to its province or country is not drawn (the page lists how many). Each links to its page."""
    west, south, east, north = box
    scale = width / (east - west)
    height = max(120, int((north - south) * scale))

    def xy(longitude: float, latitude: float) -> tuple[float, float]:
        return (longitude - west) * scale, (north - latitude) * scale

    parts = [f'<svg class="map" viewBox="0 0 {width} {height}" role="img" aria-label="Map of incidents">',
             f'<rect class="sea" width="{width}" height="{height}"/>']
    grain = 1 if east - west <= 60 else 3  # a map of half the world needs no pixel-fine coasts

    def path(outline: list[Any]) -> str:
        """SVG path data of rings, in whole pixels: a point in the same pixel as the one before is left out, so an
        outline costs what the picture can show, not what the data holds."""
        drawn = []
        for ring in outline:
            kept: list[tuple[int, int]] = []
            for lon, lat in ring:
                px, py = xy(lon, lat)
                point = (grain * round(px / grain), grain * round(py / grain))
                if not kept or point != kept[-1]:
                    kept.append(point)
            if len(kept) > 2:
                drawn.append("M" + " L".join(f"{px},{py}" for px, py in kept) + "Z")
        return " ".join(drawn)

    for country, country_rings in sorted(rings.items()):
        parts.append(f'<path class="country" data-country="{country}" d="{path(country_rings)}"/>')
    for code, province_rings in sorted((provinces or {}).items()):
        parts.append(f'<path class="province" data-province="{code}" d="{path(province_rings)}"><title>{code}</title>'
                     '</path>')
    for point in points:
        px, py = xy(point["longitude"], point["latitude"])
        label = html.escape(f'{point["date"]} {point["place"] or ""}: killed {point["killed"]}')
        shape = "dot" if point["precision"] in POINT_PRECISIONS else "area"
        radius = 3.5 if shape == "dot" else 9
        parts.append(f'<a href="{link_prefix}{html.escape(point["href"])}"><circle class="{shape}" '
                     f'data-key="{html.escape(point["key"])}" cx="{px:.1f}" cy="{py:.1f}" r="{radius}">'
                     f'<title>{label}</title></circle></a>')
    parts.append("</svg>")
    return "".join(parts)

"""An incident's killed and wounded low / best / high, derived from its reports and the analyst's choice."""

from __future__ import annotations

from incidents.errors import UsageError
from incidents.models import Incident, Report
from incidents.records import derive_figures


def choose_figures(
    incident_key: str, measure: str, derived: tuple[int | None, int | None, int | None], manual_best: int | None
) -> tuple[int | None, int | None, int | None]:
    """The incident's (low, best, high): the reports' range, with the analyst's best when one is set."""
    low, best, high = derived
    if manual_best is None:
        return low, best, high
    if low is None or high is None:
        return manual_best, manual_best, manual_best  # an analyst's figure with no report behind it is a bound
    if not low <= manual_best <= high:
        raise UsageError(
            f"incident {incident_key}: {measure} best {manual_best} lies outside the range its reports give "
            f"({low}-{high}); add the report that gives {manual_best}, or choose a figure inside the range"
        )
    return low, manual_best, high


def recompute_figures(incident: Incident, reports: list[Report]) -> None:
    """low/high = min/max over non-preliminary reports; best = the analyst's choice, else the latest report's."""
    for measure in ("killed", "wounded"):
        manual = getattr(incident, f"{measure}_best") if getattr(incident, f"{measure}_best_manual") else None
        low, best, high = choose_figures(incident.key, measure, derive_figures(reports, measure), manual)
        setattr(incident, f"{measure}_low", low)
        setattr(incident, f"{measure}_best", best)
        setattr(incident, f"{measure}_high", high)
    if incident.perpetrators_killed is None:
        incident.perpetrators_killed = derive_figures(reports, "perpetrators_killed")[1]

"""Starter projects: the web-logs tutorial's data and Flow, generated deterministically."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from clusterlab.core.errors import InvalidInputError
from clusterlab.samples.crm import generate_crm
from clusterlab.samples.weblogs import generate_weblogs

if TYPE_CHECKING:
    from clusterlab.services.project import Project
    from clusterlab.services.workspace import Workspace

STARTERS = {"weblogs": "Clustering (web logs)"}
SEED = 42
SECTIONS = {
    "blog": "/blog",
    "applications": "/applications",
    "home": "/",
    "company": "/company",
    "products": "/products",
    "data-science": "/data-science",
}

PREPARE: dict[str, Any] = {
    "name": "compute_weblogs_prepared",
    "type": "prepare",
    "inputs": ["weblogs"],
    "outputs": ["weblogs_prepared"],
    "params": {
        "steps": [
            {
                "type": "remove_columns",
                "columns": ["br_height", "br_width", "sc_width", "sc_height"],
            },
            {"type": "rename_columns", "mapping": {"client_addr": "ip_address"}},
            {"type": "clear_invalid", "column": "ip_address", "meaning": "ip_address"},
            {"type": "geoip", "column": "ip_address", "outputs": ["country", "city", "geopoint"]},
            {"type": "classify_user_agent", "column": "user_agent"},
            # %z accepts the trailing "Z" and keeps the ISO fast path (no per-row regexes).
            {"type": "parse_date", "column": "server_ts", "formats": ["%Y-%m-%dT%H:%M:%S[.%f]%z"]},
            {
                "type": "extract_date_parts",
                "column": "server_ts_parsed",
                "parts": ["day", "day_of_week", "hour"],
            },
            {"type": "split_url", "column": "location", "parts": ["path"]},
            {"type": "rename_columns", "mapping": {"location_path": "url"}},
            {"type": "flag_url_sections", "column": "url", "sections": SECTIONS},
        ]
    },
}

GROUP: dict[str, Any] = {
    "name": "compute_weblogs_prepared_by_visitor_id",
    "type": "group",
    "inputs": ["weblogs_prepared"],
    "outputs": ["weblogs_prepared_by_visitor_id"],
    "params": {
        "keys": ["visitor_id"],
        "count": True,
        "order_by": ["server_ts_parsed"],
        "aggregations": [
            *(
                {"column": c, "aggregations": ["distinct"]}
                for c in ("day", "day_of_week", "hour", "session_id", "url")
            ),
            *(
                {"column": c, "aggregations": ["first"]}
                for c in ("ip_address_country", "user_agent_type")
            ),
            *({"column": c, "aggregations": ["sum"]} for c in SECTIONS),
        ],
    },
}


def create_starter(
    ws: Workspace, key: str, starter: str = "weblogs", *, page_views: int | None = None
) -> Project:
    """Create project ``key`` from a starter: raw datasets plus the Prepare and Group recipes.

    ``page_views`` scales the generated web logs (default: 20,000 visitors, about
    200,000 page views). Nothing is left behind if any step fails.
    """
    if starter not in STARTERS:
        raise InvalidInputError(
            f"Unknown starter {starter!r}: choose one of {', '.join(sorted(STARTERS))}."
        )
    if page_views is not None and page_views < 1_000:
        raise InvalidInputError(f"A starter needs at least 1,000 page views, not {page_views:,}.")
    project = ws.create_project(key, name=STARTERS[starter])
    try:
        weblogs = generate_weblogs(seed=SEED, page_views=page_views)
        project.create_dataset("weblogs", weblogs)
        project.create_dataset("crm", generate_crm(weblogs["visitor_id"], seed=SEED))
        del weblogs
        project.create_recipe(PREPARE)
        project.create_recipe(GROUP)
    except BaseException:
        ws.delete_project(key)
        raise
    return project

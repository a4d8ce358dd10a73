"""The web-logs starter project: deterministic data, the reference Flow, 15 columns."""

from __future__ import annotations

from pathlib import Path

import pytest

import clusterlab as cl
from clusterlab.core.errors import AlreadyExistsError, InvalidInputError
from clusterlab.services.starter import create_starter

REFERENCE_COLUMNS = [
    "visitor_id", "count", "day_distinct", "day_of_week_distinct", "hour_distinct",
    "session_id_distinct", "url_distinct", "ip_address_country_first", "user_agent_type_first",
    "blog_sum", "applications_sum", "home_sum", "company_sum", "products_sum", "data-science_sum",
]  # fmt: skip


def test_starter_builds_the_reference_flow(ws: cl.Workspace) -> None:
    project = ws.create_project("CLUSTERING", starter="weblogs", rows=30_000)
    assert [d.name for d in project.datasets()] == [
        "crm", "weblogs", "weblogs_prepared", "weblogs_prepared_by_visitor_id",
    ]  # fmt: skip
    assert project.dataset("weblogs").rows >= 29_000
    project.build_all()
    grouped = project.dataset("weblogs_prepared_by_visitor_id")
    assert grouped.schema.names == REFERENCE_COLUMNS
    frame = grouped.to_pandas()
    assert frame["visitor_id"].is_unique
    assert frame["count"].sum() == project.dataset("weblogs_prepared").rows
    assert grouped.schema.column("blog_sum").type is cl.StorageType.INTEGER
    countries = frame["ip_address_country_first"].value_counts(normalize=True)
    assert countries.index[0] == "France"
    assert countries["United States"] > 0.1
    assert (frame["count"] == 1).mean() > 0.2  # the bulk of one-visit infrequent visitors
    assert frame["day_distinct"].max() >= 10  # recurrent visitors
    parsed = project.dataset("weblogs_prepared").to_pandas()["server_ts_parsed"]
    assert parsed.notna().all()
    assert parsed.dt.month.isin([2, 3, 4, 5]).all()
    prepared = project.dataset("weblogs_prepared").schema.names
    for column in ("ip_address", "ip_address_country", "user_agent_type", "day", "hour", "url"):
        assert column in prepared
    for removed in ("br_height", "br_width", "sc_width", "sc_height", "client_addr"):
        assert removed not in prepared


def test_starter_is_deterministic(tmp_path: Path) -> None:
    frames = []
    for i in range(2):
        ws = cl.Workspace(tmp_path / f"ws{i}")
        frames.append(create_starter(ws, "C", page_views=5_000).dataset("weblogs").to_pandas())
    assert frames[0].equals(frames[1])


def test_starter_bad_input_leaves_nothing(ws: cl.Workspace) -> None:
    with pytest.raises(InvalidInputError, match="Unknown starter"):
        create_starter(ws, "C", "nope")
    with pytest.raises(InvalidInputError, match="at least 1,000"):
        create_starter(ws, "C", page_views=10)
    assert ws.projects() == []
    ws.create_project("TAKEN")
    with pytest.raises(AlreadyExistsError):
        create_starter(ws, "TAKEN")

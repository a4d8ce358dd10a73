"""In a real browser: choosing Spark for a Lab task greys DBSCAN out, with Spark's reason."""

from __future__ import annotations

import pytest

from clusterlab.engines.capabilities import capabilities_for
from tests.e2e.test_tutorial import page, server  # noqa: F401 - fixtures for this module
from tests.web.builders import customers_frame

pytestmark = pytest.mark.e2e


def test_choosing_spark_greys_out_dbscan_with_its_reason(page) -> None:  # noqa: F811
    from playwright.sync_api import expect

    api = page.request
    assert api.post("/api/projects", data={"key": "ENGINES"}).ok
    csv = customers_frame().to_csv(index=False).encode()
    upload = {"name": "customers", "file": {"name": "c.csv", "mimeType": "text/csv", "buffer": csv}}
    assert api.post("/api/projects/ENGINES/datasets", multipart=upload).ok
    task = api.post("/api/projects/ENGINES/tasks", data={"dataset": "customers"}).json()
    page.goto(f"/projects/ENGINES/lab/{task['id']}?panel=algorithms")
    page.wait_for_selector("body[data-ready]")
    dbscan = page.locator("fieldset[data-algorithm=dbscan] input[type=checkbox]")
    expect(dbscan).to_be_enabled()

    page.select_option("select[data-task-engine]", "spark")  # saved, then the page redraws
    expect(dbscan).to_be_disabled()
    reason = capabilities_for("spark").algorithm("dbscan").note
    expect(dbscan).to_have_attribute("title", reason)
    expect(page.locator("fieldset[data-algorithm=dbscan] .engine-note")).to_contain_text(reason)
    expect(page.locator("fieldset[data-algorithm=kmeans] input[type=checkbox]")).to_be_enabled()
    expect(page.locator("select[data-task-engine]")).to_have_value("spark")
    expect(page.locator("[data-engine]")).to_have_text("spark")

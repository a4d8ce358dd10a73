"""The tutorial in a real browser, as a new user does it, page by page.

`clusterlab serve` runs in its own process on a free port with a fresh workspace;
Playwright drives Debian's Chromium (installed by scripts/ensure-browser.sh, never
Playwright's own browser builds). Screenshots of the main pages go to test-artifacts/.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
KEY = "CLUSTERING"
GROUPED = "weblogs_prepared_by_visitor_id"
PAGE_VIEWS = 3_000  # the smallest starter that still shows five distinct segments
NEW_NAME = "Loyal readers"
# Waits, not assertions: a job on a busy two-core machine may take a while to start.
WAIT_MS = 180_000


def chromium_path() -> str:
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "No Chromium on PATH for the end-to-end test: run `bash scripts/ensure-browser.sh` "
        "(or `make browser`), or deselect these tests with -m 'not e2e'."
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`clusterlab serve` on a free port over a fresh workspace; yields its base URL."""
    home = tmp_path_factory.mktemp("e2e") / "home"
    port = free_port()
    env = {**os.environ, "CLUSTERLAB_HOME": str(home)}
    command = [sys.executable, "-m", "clusterlab.cli.main", "--home", str(home), "serve"]
    process = subprocess.Popen(
        [*command, "--port", str(port), "--no-browser"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        while not answers(f"{url}/api/projects"):
            if process.poll() is not None:
                error = process.stderr.read().decode() if process.stderr else ""
                pytest.fail(f"clusterlab serve exited with {process.returncode}: {error}")
            # A pause between polls; the loop ends when the server answers or dies.
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=30)


@pytest.fixture(scope="module")
def page(server: str) -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as play:
        # Chromium's sandbox needs user namespaces that containers (and root) lack.
        browser = play.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        context = browser.new_context(base_url=server, viewport={"width": 1400, "height": 900})
        tab = context.new_page()
        tab.set_default_timeout(WAIT_MS)
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        yield tab
        browser.close()
        assert not errors, f"JavaScript errors in the pages: {errors}"


def shot(page, name: str) -> None:
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def node(page, kind: str, name: str):
    return page.locator(f'svg.flow a.node[data-kind="{kind}"][data-name="{name}"]')


def test_tutorial_through_the_pages(page) -> None:
    from playwright.sync_api import expect

    # Home: a new project from the starter, small for speed.
    page.goto("/")
    page.wait_for_selector("body[data-ready]")
    page.fill("input[name=key]", KEY)
    page.select_option("select[name=starter]", "weblogs")
    page.fill("input[name=rows]", str(PAGE_VIEWS))
    page.click("form[data-api='/api/projects'] button[type=submit]")
    page.wait_for_url(f"**/projects/{KEY}/flow")

    # Flow: Build all, then the grouped dataset is built.
    page.click("summary:has-text('Flow Actions')")
    page.click("button[data-build-all]:not([data-force])")
    page.wait_for_selector(
        f'svg.flow .node-dataset[data-name="{GROUPED}"]:not(.unbuilt)', state="attached"
    )

    # Lab → AutoML Clustering on the visitors, then Train (K-means k = 3, 5, 7).
    node(page, "dataset", GROUPED).click()
    page.click(f"button[data-lab='{GROUPED}'][data-preset=kmeans]")
    page.wait_for_url(re.compile(r".*/lab/[0-9a-f]+$"))
    page.click("button[data-train]")
    page.wait_for_url(re.compile(r".*tab=result"))
    page.wait_for_selector("#models")
    assert page.locator("#models a:text-is('K-means (k=5)')").count() == 1
    shot(page, "results")

    # The k = 5 report: rename a cluster.
    page.click("#models a:text-is('K-means (k=5)')")
    page.wait_for_selector("#clusters")
    card = page.locator(".cluster").first
    old_name = card.locator("[data-name]").inner_text()
    card.locator("[data-rename]").click()
    with page.expect_response(lambda r: "/clusters/" in r.url and r.request.method == "PUT"):
        page.fill("input.rename", NEW_NAME)
        page.press("input.rename", "Enter")
    # The card is redrawn after the response: wait for the new name, do not race it.
    expect(card.locator("[data-name]")).to_have_text(NEW_NAME)
    assert old_name != NEW_NAME
    shot(page, "summary")

    # Heatmap and profiles are drawn by Plotly in the page.
    page.click("nav.side-nav a:text-is('Heatmap')")
    page.wait_for_selector("#heatmap .main-svg")
    shot(page, "heatmap")
    page.click("nav.side-nav a:text-is('Cluster profiles')")
    page.wait_for_selector("#profile .main-svg")
    shot(page, "profiles")
    # Rules name the renamed cluster, each with its coverage and precision.
    page.click("nav.side-nav a:text-is('Rules')")
    page.wait_for_selector("#rules")
    assert page.locator("#rules tbody tr").count() >= 5
    assert NEW_NAME in page.locator("#rules").inner_text()
    shot(page, "rules")

    # Deploy as a new saved model.
    page.click("button[data-open-dialog=deploy-dialog]")
    page.fill("#deploy-form input[name=saved_model]", "weblogs_segments")
    page.fill("#deploy-form input[name=name]", "Web visitor segments")
    page.click("#deploy-form button[type=submit]")
    result = page.locator("[data-deploy-result]")
    result.locator("text=version v1 is active").wait_for()
    result.locator("a:text-is('Go to the Flow')").click()
    page.wait_for_url(f"**/projects/{KEY}/flow")

    # Flow: select the visitors and the saved model (a diamond), Apply, build it.
    node(page, "dataset", GROUPED).click()
    node(page, "saved_model", "weblogs_segments").click(modifiers=["Shift"])
    form = page.locator("form.apply-form")
    form.locator("input[name=output]").fill("weblogs_segmented")
    form.locator("button[type=submit]").click()
    page.click("button[data-build-applied=weblogs_segmented]")
    page.locator("#flash a:text-is('open weblogs_segmented')").click()
    page.wait_for_url("**/datasets/weblogs_segmented")

    # The scored visitors carry the new cluster name in cluster_labels.
    page.wait_for_selector("th[data-column=cluster_labels]")
    page.select_option("form[data-filter] select[name=column]", "cluster_labels")
    page.select_option("form[data-filter] select[name=op]", "eq")
    page.fill("form[data-filter] input[name=value]", NEW_NAME)
    page.click("form[data-filter] button[type=submit]")
    page.locator("[data-count]:has-text('match')").wait_for()
    count = int(re.sub(r"\D", "", page.locator("[data-count]").inner_text()))
    assert count > 0
    labels = page.locator("#explore tbody td").all_inner_texts()
    assert NEW_NAME in labels

    # The Flow now shows the train and apply recipes and the saved model.
    # Wide enough for the whole Flow (it scrolls sideways in a narrower window).
    page.set_viewport_size({"width": 2400, "height": 900})
    page.goto(f"/projects/{KEY}/flow")
    assert node(page, "recipe", "train_weblogs_segments").count() == 1
    assert node(page, "recipe", "apply_weblogs_segments_on_" + GROUPED).count() == 1
    assert node(page, "dataset", "weblogs_segmented").get_attribute("class").find("unbuilt") < 0
    shot(page, "flow")

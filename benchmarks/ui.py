"""Weight and server time of the model report page, beside baselines measured in the same run.

On the web-logs starter (built, K-means k = 3, 5, 7 trained, the k = 5 report opened):

- weight: bytes of each report panel's HTML plus the JSON its script fetches on load,
  the page script and stylesheet, and Plotly.js (downloaded once, then cached);
- server time: the median of ``--repeat`` requests through the ASGI client (no
  network), for each panel's HTML and JSON, beside the Flow page and ``/api/projects``.

Times are printed as ratios to the baselines because machines here are noisy: a report
panel at 3x the Flow page means the same on a fast and on a slow machine.

    python benchmarks/ui.py [--page-views 200000] [--repeat 20]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.services.build import run_build
from clusterlab.services.lab import run_training
from clusterlab.web import create_app
from clusterlab.web.templating import STATIC_DIR

KEY = "BENCH"
GROUPED = "weblogs_prepared_by_visitor_id"


def prepare(home: Path, page_views: int) -> tuple[TestClient, str, str, Any]:
    """A built starter with a trained task: the client, the report page, its API, the model."""
    ws = cl.Workspace(home)
    project = ws.create_project(KEY, starter="weblogs", rows=page_views)
    run_build(project, None)
    task = project.create_clustering_task(GROUPED)
    run_training(project, task.id, lambda _f, _t: None, lambda _l: None)
    session = project.clustering_task(task.id).sessions()[-1]
    model = next(m for m in session.models if m.params.get("k") == 5)
    page = f"/projects/{KEY}/lab/{task.id}/sessions/1/models/{model.id}"
    api = "/api" + page.replace("/lab/", "/tasks/")
    return TestClient(create_app(ws)), page, api, model


def panel_requests(page: str, api: str, model: Any) -> dict[str, list[str]]:
    """Each panel's page and the JSON its script fetches when it opens (first choices)."""
    report = model.report.data
    scatter = report.scatter
    return {
        "summary": [f"{page}?panel=summary"],
        "importance": [f"{page}?panel=importance", f"{api}/importance"],
        "heatmap": [f"{page}?panel=heatmap", f"{api}/heatmap"],
        "profiles": [f"{page}?panel=profiles", f"{api}/profiles/{report.profiles[0].feature}"],
        "scatter": [
            f"{page}?panel=scatter",
            f"{api}/scatter?x={scatter.default_x}&y={scatter.default_y}",
        ],
        "metrics": [f"{page}?panel=metrics"],
        "training": [f"{page}?panel=training"],
    }


def median_ms(client: TestClient, url: str, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        response = client.get(url)
        times.append(time.perf_counter() - start)
        response.raise_for_status()
    return 1000 * statistics.median(times)


def static_bytes() -> int:
    """The page script (entry and modules) and the stylesheet, loaded by every page."""
    files = [STATIC_DIR / "app.js", STATIC_DIR / "app.css", *sorted(STATIC_DIR.glob("js/*.js"))]
    return sum(f.stat().st_size for f in files)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--page-views", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"Preparing the starter ({args.page_views:,} page views) and training …")
        client, page, api, model = prepare(Path(tmp) / "home", args.page_views)
        with client:
            plotly = len(client.get("/vendor/plotly.min.js").content)
            shared = static_bytes()
            baselines = {
                "Flow page": f"/projects/{KEY}/flow",
                "/api/projects": "/api/projects",
            }
            base_ms = {name: median_ms(client, url, args.repeat) for name, url in baselines.items()}
            print(f"\nPlotly.js (once, then cached): {plotly / 1024:,.0f} KiB")
            print(f"Page script and stylesheet (every page): {shared / 1024:,.1f} KiB\n")
            for name, ms in base_ms.items():
                size = len(client.get(baselines[name]).content)
                print(f"baseline {name:<14} {size / 1024:>8.1f} KiB {ms:>8.2f} ms")
            flow_ms = base_ms["Flow page"]
            api_ms = base_ms["/api/projects"]
            print(
                f"\n{'panel':<12} {'HTML KiB':>9} {'JSON KiB':>9} {'HTML ms':>9} {'JSON ms':>9}"
                f" {'HTML/Flow':>10} {'JSON/api':>9}"
            )
            for panel, urls in panel_requests(page, api, model).items():
                html_url, json_urls = urls[0], urls[1:]
                html_size = len(client.get(html_url).content)
                json_size = sum(len(client.get(u).content) for u in json_urls)
                html_ms = median_ms(client, html_url, args.repeat)
                json_ms = sum(median_ms(client, u, args.repeat) for u in json_urls)
                json_ratio = f"{json_ms / api_ms:>9.1f}" if json_urls else f"{'-':>9}"
                print(
                    f"{panel:<12} {html_size / 1024:>9.1f} {json_size / 1024:>9.1f} "
                    f"{html_ms:>9.2f} {json_ms:>9.2f} {html_ms / flow_ms:>10.2f} {json_ratio}"
                )


if __name__ == "__main__":
    main()

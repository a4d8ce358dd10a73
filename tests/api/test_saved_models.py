"""Saved models over REST: deploy, list, versions, activate, roll back, and real-time scoring
checked against the saved model's own predictions and the apply recipe's output."""

from __future__ import annotations

import json
import math

import pandas as pd
import pytest
from fastapi.testclient import TestClient

import clusterlab as cl
from clusterlab.services.build import run_build
from clusterlab.services.lab import ClusteringTask, run_training
from clusterlab.web.scoring import MAX_RECORDS
from tests.web.builders import customers_frame, trained_task

KEY = "SEG"
SAVED = f"/api/projects/{KEY}/saved-models"


def model_api(task: ClusteringTask, k: int) -> str:
    model = next(m for m in task.sessions()[-1].models if m.params.get("k") == k)
    return f"/api/projects/{KEY}/tasks/{task.id}/sessions/1/models/{model.id}"


def strict_json(text: str) -> object:
    """Parse JSON refusing NaN and Infinity, which are not JSON."""

    def refuse(token: str) -> None:
        raise AssertionError(f"the response holds {token}, which JSON does not allow")

    return json.loads(text, parse_constant=refuse)


@pytest.fixture(scope="module")
def task(api_ws: cl.Workspace) -> ClusteringTask:
    return trained_task(api_ws, KEY)


@pytest.fixture(scope="module")
def deployed(client: TestClient, task: ClusteringTask) -> dict:
    """K-means k = 3 with a renamed cluster, deployed as ``shop_segments``."""
    api = model_api(task, 3)
    client.put(f"{api}/clusters/cluster_0", json={"name": "Bargain hunters"})
    made = client.post(f"{api}/deploy", json={"saved_model": "shop_segments", "name": "Shop"})
    assert made.status_code == 201, made.text
    return made.json()


def test_deploy_lists_the_saved_model_with_its_active_version(
    client: TestClient, deployed: dict, task: ClusteringTask
) -> None:
    assert deployed["id"] == "shop_segments"
    assert deployed["active"] == "v1"
    listed = client.get(SAVED).json()
    assert [(m["id"], m["name"], m["active"]) for m in listed] == [("shop_segments", "Shop", "v1")]
    detail = client.get(f"{SAVED}/shop_segments").json()
    (v1,) = detail["versions"]
    assert v1["active"] is True
    assert v1["info"]["source"] == "deploy"
    assert v1["info"]["label"] == "K-means (k=3)"
    assert "Bargain hunters" in [c["name"] for c in v1["clusters"]]
    # The Flow draws the saved model as a diamond fed by its train recipe.
    flow = client.get(f"/api/projects/{KEY}/flow").json()
    kinds = {n["id"]: n["kind"] for n in flow["nodes"]}
    assert kinds["saved_model:shop_segments"] == "saved_model"
    assert {"from": "recipe:train_shop_segments", "to": "saved_model:shop_segments"} in flow[
        "edges"
    ]
    bad = client.post(f"{model_api(task, 2)}/deploy", json={"saved_model": "bad name"})
    assert bad.status_code == 400
    taken = client.post(f"{model_api(task, 2)}/deploy", json={"saved_model": "shop_segments"})
    assert taken.status_code == 422
    assert "update the existing saved model" in taken.json()["error"]


def test_update_activate_and_roll_back(client: TestClient, deployed: dict, task) -> None:
    updated = client.post(
        f"{model_api(task, 4)}/deploy", json={"saved_model": "shop_segments", "update": True}
    )
    assert updated.json()["active"] == "v2"
    back = client.post(f"{SAVED}/shop_segments/activate", json={"version": "v1"}).json()
    assert back["active"] == "v1"
    assert [v["active"] for v in back["versions"]] == [True, False]
    first = client.post(f"{SAVED}/shop_segments/rollback")
    assert first.status_code == 422
    assert "no earlier version" in first.json()["error"]
    missing = client.post(f"{SAVED}/shop_segments/activate", json={"version": "v9"})
    assert missing.status_code == 404
    assert client.post(f"{SAVED}/shop_segments/activate", json={"version": "v2"}).status_code == 200
    assert client.post(f"{SAVED}/shop_segments/rollback").json()["active"] == "v1"
    # The version's own report answers like the Lab model's.
    summary = client.get(f"{SAVED}/shop_segments/versions/v1/summary").json()
    assert "Bargain hunters" in [c["name"] for c in summary["clusters"]]


def test_score_equals_the_saved_model_and_the_apply_recipe(
    client: TestClient, deployed: dict, api_ws: cl.Workspace
) -> None:
    project = api_ws.project(KEY)
    made = client.post(
        f"{SAVED}/shop_segments/apply", json={"dataset": "customers", "output": "customers_scored"}
    )
    assert made.status_code == 201, made.text
    assert made.json()["inputs"] == ["customers", "shop_segments"]
    run_build(project, ["customers_scored"])
    applied = project.dataset("customers_scored").to_pandas().set_index("id")

    frame = customers_frame().iloc[::9].reset_index(drop=True)
    records = frame.to_dict(orient="records")
    answer = client.post(f"{SAVED}/shop_segments/score", json={"records": records})
    assert answer.status_code == 200, answer.text
    results = strict_json(answer.text)["results"]
    expected = project.saved_model("shop_segments").predict(frame)
    assert [r["cluster_labels"] for r in results] == expected["cluster_labels"].tolist()
    assert [r["cluster_id"] for r in results] == expected["cluster_id"].tolist()
    for got, want in zip(results, expected["cluster_distance"], strict=True):
        assert math.isclose(got["cluster_distance"], want, rel_tol=1e-9)
    by_id = applied.loc[frame["id"]]
    assert [r["cluster_labels"] for r in results] == by_id["cluster_labels"].tolist()
    assert "Bargain hunters" in {r["cluster_labels"] for r in results}
    # One loaded model is kept and reused.
    assert len(client.app.state.model_cache) == 1
    client.post(f"{SAVED}/shop_segments/score", json={"records": records[:1]})
    assert len(client.app.state.model_cache) == 1


def test_bad_records_name_the_record_and_column(client: TestClient, deployed: dict) -> None:
    url = f"{SAVED}/shop_segments/score"
    good = {"spend": 1.0, "visits": 2.0, "country": "France"}
    text = client.post(url, json={"records": [good, {**good, "spend": "lots"}]})
    assert text.status_code == 422
    assert "record 1, column 'spend': 'lots' is not a number" in text.json()["error"]
    missing = client.post(url, json={"records": [{"spend": 1.0, "country": "Spain"}]})
    assert missing.status_code == 422
    assert "record 0 has no column 'visits'" in missing.json()["error"]
    nested = client.post(url, json={"records": [{**good, "country": ["a"]}]})
    assert "record 0, column 'country': a list is not a value" in nested.json()["error"]
    assert client.post(url, json={"records": []}).status_code == 422
    too_many = client.post(url, json={"records": [good] * (MAX_RECORDS + 1)})
    assert too_many.status_code == 413
    assert f"At most {MAX_RECORDS:,} records" in too_many.json()["error"]
    # Numeric text is a number; a missing value is imputed like in training.
    loose = client.post(url, json={"records": [{**good, "spend": "1.0"}, {**good, "spend": None}]})
    assert loose.status_code == 200
    results = strict_json(loose.text)["results"]
    assert all(r["cluster_labels"] for r in results)
    assert client.post(f"{SAVED}/nope/score", json={"records": [good]}).status_code == 404


def test_isolation_forest_scores_have_an_anomaly_score(
    client: TestClient, api_ws: cl.Workspace
) -> None:
    project = api_ws.project(KEY)
    task = project.create_clustering_task("customers", "anomaly")
    run_training(project, task.id, lambda _f, _t: None, lambda _l: None)
    model = project.clustering_task(task.id).sessions()[-1].models[0]
    url = f"/api/projects/{KEY}/tasks/{task.id}/sessions/1/models/{model.id}"
    assert client.post(f"{url}/deploy", json={"saved_model": "shop_anomalies"}).status_code == 201
    frame = pd.concat(
        [customers_frame().head(5), pd.DataFrame([{"spend": 90.0, "visits": -50.0}])]
    ).assign(country=lambda f: f["country"].fillna("Italy"))
    answer = client.post(
        f"{SAVED}/shop_anomalies/score",
        json={"records": frame.drop(columns=["id"]).to_dict(orient="records")},
    )
    results = strict_json(answer.text)["results"]
    expected = project.saved_model("shop_anomalies").predict(frame.reset_index(drop=True))
    assert [r["anomaly_score"] for r in results] == pytest.approx(
        expected["anomaly_score"].tolist()
    )
    assert results[-1]["cluster_labels"] == "anomalies"
    assert results[-1]["anomaly_score"] == max(r["anomaly_score"] for r in results)
    # Its report lists the top anomalies, with their scores.
    anomalies = client.get(f"{url}/anomalies").json()
    scores = [r["score"] for r in anomalies["rows"] if r["anomaly"]]
    assert scores == sorted(scores, reverse=True)
    assert anomalies["features"] == ["spend", "visits", "country"]

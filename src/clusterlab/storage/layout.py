"""Where things live in a workspace directory.

```
<home>/workspace.json                      format marker
<home>/runtime.db                          jobs and logs (SQLite, WAL)
<home>/projects/<KEY>/project.json         project definition
<home>/projects/<KEY>/datasets/<name>.json dataset definitions
<home>/projects/<KEY>/recipes/<name>.json  recipe definitions
<home>/projects/<KEY>/analyses/<id>/       Lab tasks, their sessions and models
<home>/projects/<KEY>/data/<name>/CURRENT  id of the readable version
<home>/projects/<KEY>/data/<name>/v-<id>/  one immutable dataset version
<home>/.staging/  <home>/.trash/           work areas, never read as data
```

Every path built from a user-given name goes through `clusterlab.core.ids` first.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from clusterlab.core.ids import validate_name, validate_project_key


@dataclass(frozen=True)
class WorkspaceLayout:
    """Paths of one workspace."""

    home: Path

    @property
    def marker(self) -> Path:
        return self.home / "workspace.json"

    @property
    def runtime_db(self) -> Path:
        return self.home / "runtime.db"

    @property
    def projects_dir(self) -> Path:
        return self.home / "projects"

    @property
    def staging_dir(self) -> Path:
        return self.home / ".staging"

    @property
    def trash_dir(self) -> Path:
        return self.home / ".trash"

    def project_dir(self, key: str) -> Path:
        return self.projects_dir / validate_project_key(key)

    def project_file(self, key: str) -> Path:
        return self.project_dir(key) / "project.json"

    def datasets_dir(self, key: str) -> Path:
        return self.project_dir(key) / "datasets"

    def dataset_file(self, key: str, name: str) -> Path:
        return self.datasets_dir(key) / f"{validate_name(name)}.json"

    def recipes_dir(self, key: str) -> Path:
        return self.project_dir(key) / "recipes"

    def recipe_file(self, key: str, name: str) -> Path:
        return self.recipes_dir(key) / f"{validate_name(name, 'recipe')}.json"

    def analysis_dir(self, key: str, task_id: str) -> Path:
        return self.project_dir(key) / "analyses" / validate_name(task_id, "task")

    def dataset_data_dir(self, key: str, name: str) -> Path:
        return self.project_dir(key) / "data" / validate_name(name)

    def saved_models_dir(self, key: str) -> Path:
        return self.project_dir(key) / "saved_models"

    def saved_model_dir(self, key: str, model_id: str) -> Path:
        return self.saved_models_dir(key) / validate_name(model_id, "saved model")

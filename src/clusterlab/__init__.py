"""ClusterLab: a self-hosted visual ML studio for customer segmentation.

Examples
--------
>>> import clusterlab as cl, tempfile
>>> ws = cl.Workspace(tempfile.mkdtemp())
>>> p = ws.create_project("CLUSTERING")
"""

from clusterlab.core.errors import ClusterLabError
from clusterlab.core.schema import Meaning, StorageType
from clusterlab.services.dataset import Dataset
from clusterlab.services.project import Project
from clusterlab.services.workspace import Workspace
from clusterlab.settings import Settings

__version__ = "0.1.0"
__all__ = [
    "ClusterLabError",
    "Dataset",
    "Meaning",
    "Project",
    "Settings",
    "StorageType",
    "Workspace",
    "__version__",
]

"""The web UI and the REST API: a FastAPI app over the services.

Pages are server-rendered Jinja2 templates; one small ES module of our own adds the
interactive parts (job polling, charts drawn by the Plotly.js of the installed
``plotly`` package). Nothing is loaded from another host.

Examples
--------
>>> import clusterlab as cl, tempfile
>>> from clusterlab.web import create_app
>>> app = create_app(cl.Workspace(tempfile.mkdtemp()))
>>> app.title
'ClusterLab'
"""

from clusterlab.web.app import create_app

__all__ = ["create_app"]

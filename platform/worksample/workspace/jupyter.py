"""JupyterLab's configuration inside an attempt's pod.

JupyterLab is configured through `JUPYTER_CONFIG_DIR=/ipc/jupyter`, a dir in the
pod's bind-mounted ipc folder that we fill after the pod is created; the
workload waits for a `go` file before it starts the server. Once the server
answers, the config file holding the token is deleted, so the token lives only
in the server's memory and in pod.json on the host.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

JUPYTER_UID = 1000
# JupyterLab autosaves every 120 s by default; 10 s keeps what a deadline can lose small.
AUTOSAVE_S = 10
WAIT_THEN_START = "while [ ! -e /ipc/jupyter/go ]; do sleep 0.02; done; exec jupyter lab"


def base_url(attempt_id: str) -> str:
    """JupyterLab's base URL, the same path the platform serves it under."""
    return f"/w/{attempt_id}/"


def write_jupyter_config(ipc_dir: Path, attempt_id: str, token: str) -> Path:
    """Write JupyterLab's config into `<ipc>/jupyter` (seen in the pod as /ipc/jupyter); return that dir."""
    config = ipc_dir / "jupyter"
    files = {
        "jupyter_server_config.json": {
            "ServerApp": {"sock": "/ipc/jupyter.sock", "base_url": base_url(attempt_id), "root_dir": "/workspace",
                          "open_browser": False, "terminals_enabled": True},
            "IdentityProvider": {"token": token},
            "LabApp": {"app_settings_dir": "/ipc/jupyter/lab-settings", "extension_manager": "readonly",
                       "expose_app_in_browser": True,
                       "news_url": None, "check_for_updates_class": "jupyterlab.NeverCheckForUpdate"},
        },
        # The extension manager would offer to install from PyPI: off. Announcements fetch news: off.
        "labconfig/page_config.json": {"disabledExtensions": {
            "@jupyterlab/extensionmanager-extension": True, "@jupyterlab/apputils-extension:announcements": True}},
        "lab-settings/overrides.json": {"@jupyterlab/docmanager-extension:plugin": {"autosaveInterval": AUTOSAVE_S}},
    }
    for rel, content in files.items():
        path = config / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(content))
    (config / "runtime").mkdir(exist_ok=True)
    for root, dirs, names in os.walk(config):
        for name in [*dirs, *names]:
            os.chown(os.path.join(root, name), JUPYTER_UID, JUPYTER_UID)
    os.chown(config, JUPYTER_UID, JUPYTER_UID)
    return config


def scrub_secrets(config: Path) -> None:
    """Delete the files that hold the Jupyter token once the server has read them."""
    (config / "jupyter_server_config.json").unlink(missing_ok=True)
    for path in (config / "runtime").glob("jpserver-*"):
        path.unlink(missing_ok=True)

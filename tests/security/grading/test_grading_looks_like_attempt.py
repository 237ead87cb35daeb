"""A notebook cannot tell grading from an attempt by the cheap tells (issue 11, item 11).

Before: `/ipc/kernel.json` existed only at grading and the kernel's argv named
it. Now the grading kernel's connection file sits where JupyterLab puts an
attempt's (`/ipc/jupyter/runtime/kernel-<uuid>.json`) and the environment
variables JupyterLab gives an attempt's kernel are there with the same values.
What still differs is listed in the team report (transport, argv, parents).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PROBE = """
import json, os
argv = open('/proc/self/cmdline', 'rb').read().split(b'\\0')
print('PROBE' + json.dumps({
    'kernel_json': os.path.exists('/ipc/kernel.json'),
    'argv_file': next((a.decode() for a in argv if a.endswith(b'.json')), None),
    'env': {k: os.environ.get(k) for k in ('JUPYTER_CONFIG_DIR', 'JUPYTER_RUNTIME_DIR', 'JPY_SESSION_NAME')},
    'runtime': sorted(os.listdir('/ipc/jupyter/runtime')) if os.path.isdir('/ipc/jupyter/runtime') else None,
}))
"""


@pytest.mark.timeout(300)
def test_the_grading_kernel_has_the_attempts_paths_and_env_names(grade):
    report = grade([PROBE, "import os\nos.makedirs('outputs', exist_ok=True)\nopen('outputs/result.txt', 'w').write('26')"])
    assert "error" not in report, report.get("error")
    nb = json.loads((Path(report["run_dir"]) / "notebook.ipynb").read_text())
    text = "".join("".join(o.get("text", "")) for o in nb["cells"][0]["outputs"])  # nbformat may split lines
    seen = json.loads(text.split("PROBE", 1)[1])
    assert seen["kernel_json"] is False
    assert re.fullmatch(r"/ipc/jupyter/runtime/kernel-[0-9a-f-]{36}\.json", seen["argv_file"] or ""), seen
    assert seen["env"] == {"JUPYTER_CONFIG_DIR": "/ipc/jupyter", "JUPYTER_RUNTIME_DIR": "/ipc/jupyter/runtime",
                           "JPY_SESSION_NAME": "/workspace/solution.ipynb"}, seen
    assert seen["runtime"] == [seen["argv_file"].rsplit("/", 1)[1]]

"""Run every benchmark in turn (make bench); exit non-zero, naming them, if any missed its target.

Each script prints its figures and exits non-zero when a target or a check fails; the others
still run, so one miss does not hide the rest of the figures.
"""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = (
    "posting_throughput.py",
    "read_latency.py",
    "verify_time.py",
    "webhooks.py",
    "cases.py",
    "reports.py",
)

failed = []
for script in SCRIPTS:
    print(f"== {script}", flush=True)
    if subprocess.run([sys.executable, str(HERE / script)], check=False).returncode != 0:
        failed.append(script)
if failed:
    sys.exit(f"bench: these missed a target or a check: {', '.join(failed)}")

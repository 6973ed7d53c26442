"""Run every benchmark in turn (make bench)."""

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

for script in (
    "posting_throughput.py",
    "read_latency.py",
    "verify_time.py",
    "webhooks.py",
    "cases.py",
):
    print(f"== {script}", flush=True)
    subprocess.run([sys.executable, str(HERE / script)], check=True)

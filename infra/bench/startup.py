"""Cold-start and start-up figures: handler import time (`python -X importtime`), synth time,
and the local stack's deploy time. Prints a table; run with `make bench`.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from infra.names import HANDLERS

ROOT = Path(__file__).resolve().parents[2]
RUNS = 5


def import_time_ms(module: str) -> float:
    """Cumulative import time of `module` in a fresh interpreter, as `-X importtime` reports it."""
    result = subprocess.run(  # noqa: S603 (our own interpreter, a module name from our constants)
        [sys.executable, "-X", "importtime", "-c", f"import {module}"],
        cwd=ROOT / "functions",
        capture_output=True,
        text=True,
        check=True,
    )
    for line in result.stderr.splitlines():
        # "import time:  self [us] | cumulative | imported package"
        parts = [part.strip() for part in line.removeprefix("import time:").split("|")]
        if len(parts) == 3 and parts[2] == module:
            return int(parts[1]) / 1000
    raise RuntimeError(f"no import time reported for {module}")


def main() -> None:
    print(f"Handler module import time (cold start), median of {RUNS} fresh interpreters:")
    for handler in sorted(set(HANDLERS.values())):
        module = handler.rsplit(".", 1)[0]
        times = [import_time_ms(module) for _ in range(RUNS)]
        print(
            f"  {module:<34} {statistics.median(times):7.1f} ms  (min {min(times):.1f}, max {max(times):.1f})"
        )

    from infra.local.stack import LocalStack
    from infra.synth import synthesize

    with tempfile.TemporaryDirectory() as outdir:
        started = time.perf_counter()
        template = synthesize(outdir, bundling=False)
        synth_s = time.perf_counter() - started
    resources = len(template["Resources"])
    print(f"Synthesis (CDK app in-process, bundling off): {synth_s:.1f} s, {resources} resources")

    stack = LocalStack(template)
    started = time.perf_counter()
    stack.start(port=0)
    deploy_s = time.perf_counter() - started
    stack.stop()
    print(f"Local stack deploy into moto (tables, secrets, topic, server): {deploy_s:.2f} s")


if __name__ == "__main__":
    main()

"""Start-up cost of the import-free registration hook (pyiqa_lifeiqa_autoload.pth).

Every Python start-up in an environment with the plugin installed imports ``pyiqa_lifeiqa``
(registration only: no torch, no pyiqa). This measures that import's cumulative time with
``python -X importtime -c pass`` over repeated fresh interpreters, what pyiqa's loading of its model
configs adds (our entries, with the file-system check of which weights can be had), and the total wall
time of ``python -c pass``, and writes benchmarks/results/startup.csv.

Usage: python benchmarks/startup.py [--repeats 30]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / 'results' / 'startup.csv'


def hook_import_us() -> int:
    """Cumulative import time of pyiqa_lifeiqa, in microseconds, in one fresh interpreter."""
    stderr = subprocess.run([sys.executable, '-X', 'importtime', '-c', 'pass'], capture_output=True, text=True).stderr
    for line in stderr.splitlines():
        parts = [p.strip() for p in line.split('|')]
        if len(parts) == 3 and parts[2] == 'pyiqa_lifeiqa':
            return int(parts[1])
    raise RuntimeError('pyiqa_lifeiqa was not imported at start-up: is the plugin installed?')


# What pyiqa's loading of its configs adds: our entries, with the check of which weights can be had,
# timed in a fresh interpreter that has already imported what pyiqa has imported by then (torch).
CONFIGS_CODE = (
    'import time, torch, pyiqa_lifeiqa\n'
    't = time.perf_counter()\n'
    'from pyiqa_lifeiqa.configs import available_metric_configs\n'
    'available_metric_configs()\n'
    'print((time.perf_counter() - t) * 1e3)'
)


def configs_ms() -> float:
    """Milliseconds to import our config module and find which weight sets' files can be had."""
    return float(subprocess.run([sys.executable, '-c', CONFIGS_CODE], capture_output=True, text=True).stdout)


def interpreter_start_ms() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, '-c', 'pass'], check=True)
    return (time.perf_counter() - start) * 1e3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--repeats', type=int, default=30)
    args = parser.parse_args()
    from results_io import provenance, write_results  # in this process only: not measured

    traced = provenance()
    hook_import_us()  # warm the bytecode cache
    hook = [hook_import_us() / 1e3 for _ in range(args.repeats)]
    start = [interpreter_start_ms() for _ in range(args.repeats)]
    configs = [configs_ms() for _ in range(args.repeats)]
    rows = [
        ('hook import (pyiqa_lifeiqa, cumulative)', statistics.median(hook), max(hook)),
        ('lifeiqa entries at pyiqa config load', statistics.median(configs), max(configs)),
        ('whole interpreter start-up (python -c pass)', statistics.median(start), max(start)),
    ]
    print(f'{"what":<46}{"median ms":>10}{"max ms":>10}')
    for what, median, worst in rows:
        print(f'{what:<46}{median:>10.2f}{worst:>10.2f}')
    print(f'hook share of start-up: {rows[0][1] / rows[2][1]:.1%} (target: hook, config load < 10 ms each)')
    records = [{'what': w, 'median_ms': f'{m:.3f}', 'max_ms': f'{x:.3f}', 'repeats': args.repeats} for w, m, x in rows]
    write_results(records, RESULTS, traced)


if __name__ == '__main__':
    main()

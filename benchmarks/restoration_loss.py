"""Life-IQA as a restoration loss, judged with metrics it was not trained against.

Held-out photographs (the test part of the default model's split: never seen in its training)
are centre-cropped, degraded and restored with Adam from the degraded image, in each setting:

* task ``deblur``: Gaussian blur (known kernel, sigma 2) + noise 0.01; fidelity ``MSE(blur(x), y)``;
* task ``denoise``: Gaussian noise 0.05; fidelity ``MSE(x, y)`` (alone, it keeps the noisy input);
* form ``pixels`` (``x`` itself, started at ``y``) or ``network`` (``x = y + f(y)``, a small CNN
  started at ``f = 0``, its weights optimised on the image: no learned prior, only its convolutions);
* method ``fidelity only``; ``+ plain``: minus ``weight`` x pyiqa's ``create_metric('lifeiqa',
  as_loss=True)`` (fixed crops, no hinge); ``+ robust``: ``weight`` x
  :class:`~pyiqa_lifeiqa.losses.LifeIQALoss` (random views and flips, hinged at the clean
  target's score).

Each form's Adam learning rate (``LEARNING_RATE``) is the one of 0.01, 0.003, 0.001 and 0.0003
that gives fidelity only its best median deblurring PSNR on the 18 *validation* photographs
(``--part val --methods 'fidelity only' --tasks deblur --lr ...``; denoising's fidelity term is
zero at the start, so it has none to choose), so the Life-IQA terms are compared with the best plain
restoration the budget allows, not with an over-fitted one.

Each result is measured against the clean photograph with PSNR, SSIM, MS-SSIM, FSIM and VIF, and
alone with NIQE, BRISQUE and PIQE (lower is better) and Life-IQA itself (deterministic crops).
None of them is the loss; GMSD, NLPD and VSI are left out because they made the default model's
training labels. NIQE and BRISQUE need ``lifeiqa prepare-baselines`` once.

Usage:
    HF_HUB_OFFLINE=1 python benchmarks/restoration_loss.py --photos PHOTOS/images [--count 10] [--steps 100]
        [--weight 0.003] [--forms pixels network] [--tasks deblur denoise] [--methods ...] [--part test]
        [--lr pixels=0.001] [--measures ...] [--weights CANDIDATE] [--out CSV]
    python benchmarks/restoration_loss.py --from-csv CSV   # the paired comparison of an earlier run
"""

from __future__ import annotations

import argparse
import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pyiqa
import torch
import torch.nn.functional as F
import torchvision.transforms.functional as TF
from PIL import Image, ImageDraw
from results_io import provenance, write_results
from torch import nn

from pyiqa_lifeiqa.data.photos import photo_part
from pyiqa_lifeiqa.io import load_image
from pyiqa_lifeiqa.losses import LifeIQALoss
from pyiqa_lifeiqa.weights.resolve import resolve_weight_file

RESULTS = Path(__file__).resolve().parent / 'results'
FIDELITY = ('psnr', 'ssim', 'ms_ssim', 'fsim', 'vif')  # against the clean photograph
NO_REFERENCE = ('niqe', 'brisque', 'piqe', 'lifeiqa')  # of the result alone
PAIRED = ('psnr', 'niqe', 'brisque', 'piqe', 'lifeiqa')  # what the paired comparison with fidelity only reads
METHODS = ('fidelity only', '+ plain', '+ robust')
# Adam learning rates of each form, chosen for fidelity only on the validation photographs (module docstring).
LEARNING_RATE = {'pixels': 0.001, 'network': 0.001}
CAPTION = 28  # pixels above each image of the figure
CAPTIONED = (('psnr', 'PSNR', 2), ('lifeiqa', 'Life-IQA', 3))  # measure, label, digits


@dataclass(frozen=True)
class Task:
    """A degradation ``y = observe(x) + noise`` and its fidelity term ``MSE(observe(x), y)``.

    Attributes:
        name: ``deblur`` or ``denoise``.
        blur_sigma: Gaussian blur of ``observe`` (0: none).
        noise: Standard deviation of the added Gaussian noise.
    """

    name: str
    blur_sigma: float
    noise: float

    def observe(self, x: torch.Tensor) -> torch.Tensor:
        if not self.blur_sigma:
            return x
        size = 2 * round(3 * self.blur_sigma) + 1
        return TF.gaussian_blur(x, [size, size], [self.blur_sigma, self.blur_sigma])

    def degrade(self, sharp: torch.Tensor, seed: int) -> torch.Tensor:
        noise = torch.randn(sharp.shape, generator=torch.Generator().manual_seed(seed)).to(sharp)
        return (self.observe(sharp) + self.noise * noise).clamp(0, 1)

    def fidelity(self, x: torch.Tensor, degraded: torch.Tensor) -> torch.Tensor:
        return F.mse_loss(self.observe(x), degraded)


TASKS = {task.name: task for task in (Task('deblur', 2.0, 0.01), Task('denoise', 0.0, 0.05))}


class ResidualCNN(nn.Module):
    """A small restoration network: the input plus a correction from a stack of 3x3 convolutions,
    started as the identity (last convolution zero)."""

    def __init__(self, width: int = 16, depth: int = 4) -> None:
        super().__init__()
        layers: list[nn.Module] = [nn.Conv2d(3, width, 3, padding=1), nn.ReLU()]
        for _ in range(depth - 2):
            layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
        layers.append(nn.Conv2d(width, 3, 3, padding=1))
        nn.init.zeros_(layers[-1].weight)
        nn.init.zeros_(layers[-1].bias)
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x + self.body(x)).clamp(0, 1)


# term(restored) -> the quality part of the loss (None: fidelity only)
Term = Callable[[torch.Tensor], torch.Tensor]


def restore(
    degraded: torch.Tensor,
    task: Task,
    form: str,
    steps: int,
    term: Term | None,
    *,
    lr: float | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Minimise ``task.fidelity + term`` over ``form`` (``pixels`` or ``network``) with Adam at ``lr``
    (default: the form's ``LEARNING_RATE``); the result, detached."""
    torch.manual_seed(seed)  # the same network start and the same random views for every method
    if form == 'pixels':
        x = degraded.clone().requires_grad_(True)
        params, image = [x], lambda: x
    elif form == 'network':
        net = ResidualCNN().to(degraded.device)
        params, image = list(net.parameters()), lambda: net(degraded)
    else:
        raise ValueError(f"form must be 'pixels' or 'network', got {form!r}")
    optimizer = torch.optim.Adam(params, lr=LEARNING_RATE[form] if lr is None else lr)
    for _ in range(steps):
        optimizer.zero_grad()
        restored = image()
        loss = task.fidelity(restored, degraded)
        if term is not None:
            loss = loss + term(restored)
        loss.backward()
        optimizer.step()
        if form == 'pixels':
            x.data.clamp_(0, 1)  # keep a valid image
    with torch.no_grad():
        return image().detach()


def split_photographs(photos: Path, count: int, size: int, part: str = 'test') -> list[Path]:
    """The first ``count`` photographs (sorted by name) of ``part`` of the default model's split
    whose shorter side is at least ``size``."""
    chosen = []
    for name in photo_part(part):
        matches = sorted(photos.glob(f'{name}.*'))
        if matches and min(load_image(matches[0]).shape[-2:]) >= size:
            chosen.append(matches[0])
        if len(chosen) == count:
            return chosen
    raise SystemExit(f'{photos} holds {len(chosen)} {part} photographs of at least {size} px, not {count}')


class Judge:
    """Measures of a result: those of FIDELITY against the clean image, the others of the result alone."""

    def __init__(self, device: str, measures: tuple[str, ...] = FIDELITY + NO_REFERENCE) -> None:
        self.metrics = {name: pyiqa.create_metric(name, device=device) for name in measures}

    @torch.no_grad()
    def __call__(self, result: torch.Tensor, clean: torch.Tensor) -> dict[str, float]:
        measures = {}
        for name, metric in self.metrics.items():
            if name in FIDELITY:
                measures[name] = float('inf') if result is clean and name == 'psnr' else metric(result, clean).item()
            else:
                measures[name] = metric(result).item()
        return measures


def quality_terms(
    methods: tuple[str, ...], weight: float, device: str, weights: Path | None = None
) -> Callable[[str, torch.Tensor], Term | None]:
    """``term(method, clean)``: the quality part of the loss of each of ``methods`` (None: fidelity only).

    ``weights``: other Life-IQA weights for the loss terms (default: the shipped model's).
    """
    loaded = {} if weights is None else {'pretrained_model_path': str(weights)}
    plain = pyiqa.create_metric('lifeiqa', as_loss=True, device=device, **loaded) if '+ plain' in methods else None
    robust = LifeIQALoss('lifeiqa', loss_weight=weight, device=device, **loaded) if '+ robust' in methods else None

    def term(method: str, clean: torch.Tensor) -> Term | None:
        if method not in methods:
            raise ValueError(f'method {method!r} is not one of {methods}')
        if method == 'fidelity only':
            return None
        if method == '+ plain':
            return lambda x: -weight * plain(x).mean()
        return lambda x: robust(x, clean)

    return term


def run(
    photos: list[Path],
    tasks: list[str],
    forms: list[str],
    steps: int,
    weight: float,
    size: int = 256,
    device: str = 'cpu',
    example: Path | None = None,
    weights: Path | None = None,
    methods: tuple[str, ...] = METHODS,
    learning_rates: dict[str, float] | None = None,
    measures: tuple[str, ...] = FIDELITY + NO_REFERENCE,
) -> list[dict]:
    """One row per (photograph, task, form, method), plus the clean and degraded images.

    ``weights``: other Life-IQA weights for the loss terms; the ``lifeiqa`` measure stays the shipped model's.
    ``learning_rates``: Adam learning rates other than ``LEARNING_RATE``, by form.
    """
    learning_rates = learning_rates or {}
    judge = Judge(device, measures)
    term = quality_terms(methods, weight, device, weights)
    rows = []
    for i, path in enumerate(photos):
        clean = TF.center_crop(load_image(path), [size, size]).to(device)
        for task_name in tasks:
            task = TASKS[task_name]
            degraded = task.degrade(clean, seed=i)
            results = {('-', 'clean'): clean, ('-', 'degraded'): degraded}
            for form in forms:
                for method in methods:
                    start = time.perf_counter()
                    results[form, method] = restore(
                        degraded, task, form, steps, term(method, clean), lr=learning_rates.get(form)
                    )
                    print(f'{path.name} {task_name} {form} {method}: {time.perf_counter() - start:.1f} s', flush=True)
            for (form, method), result in results.items():
                rows.append(
                    {'image': path.name, 'task': task_name, 'form': form, 'method': method, **judge(result, clean)}
                )
            if example is not None and i == 0:
                save_figure(results, rows[-len(results) :], example.with_name(f'{example.stem}_{task_name}.png'))
    return rows


def save_figure(results: dict[tuple[str, str], torch.Tensor], rows: list[dict], path: Path) -> None:
    """One row of images: the degraded input, each result, the clean target; each captioned with its
    method, PSNR and Life-IQA score (those measured)."""
    order = [key for key in results if key[1] not in ('clean', 'degraded')]
    order = [('-', 'degraded'), *order, ('-', 'clean')]
    by_key = {(r['form'], r['method']): r for r in rows}
    tiles = []
    for key in order:
        tile = TF.to_pil_image(results[key][0].cpu())
        canvas = Image.new('RGB', (tile.width, tile.height + CAPTION), 'white')
        canvas.paste(tile, (0, CAPTION))
        form, method = key
        row = by_key[key]
        draw = ImageDraw.Draw(canvas)
        draw.text((4, 2), method if form == '-' else f'{form}, {method}', fill='black')
        captions = (f'{label} {row[m]:.{digits}f}' for m, label, digits in CAPTIONED if m in row)
        draw.text((4, 14), '  '.join(captions), fill='black')
        tiles.append(canvas)
    figure = Image.new('RGB', (sum(t.width for t in tiles), tiles[0].height), 'white')
    for i, tile in enumerate(tiles):
        figure.paste(tile, (i * tiles[0].width, 0))
    path.parent.mkdir(parents=True, exist_ok=True)  # as write_results does for the CSVs
    figure.save(path)


def measured(rows: list[dict]) -> list[str]:
    """The measures the rows hold, in the order of FIDELITY + NO_REFERENCE."""
    return [m for m in FIDELITY + NO_REFERENCE if m in rows[0]]


def summarise(rows: list[dict]) -> list[dict]:
    """Median of every measure per (task, form, method), over photographs."""
    keys = ['task', 'form', 'method']
    groups = pd.DataFrame(rows).groupby(keys, sort=False)
    summary = groups[measured(rows)].median().join(groups.size().rename('images')).reset_index()
    return summary[[*keys, 'images', *measured(rows)]].to_dict('records')


def paired(rows: list[dict]) -> list[dict]:
    """Each Life-IQA term against fidelity only, photograph by photograph, per (task, form, method).

    Counts the photographs whose NIQE, BRISQUE and PIQE the term improved (lower) and whose result
    scores above the clean photograph's Life-IQA score (and, beside it, those whose fidelity-only
    result already did), and gives the median PSNR change.
    """
    table = pd.DataFrame(rows)
    fidelity = table[table['method'] == 'fidelity only'].set_index(['task', 'form', 'image']).sort_index()
    clean = table[table['method'] == 'clean'].set_index(['task', 'image'])['lifeiqa'].sort_index()
    terms = table[(table['form'] != '-') & (table['method'] != 'fidelity only')]
    out = []
    for (task, form, method), term in terms.groupby(['task', 'form', 'method'], sort=False):
        term = term.set_index('image')
        base = fidelity.loc[(task, form)].loc[term.index]
        above = clean.loc[task].loc[term.index]
        row = {'task': task, 'form': form, 'method': method, 'images': len(term)}
        row.update({f'better_{m}': int((term[m] < base[m]).sum()) for m in ('niqe', 'brisque', 'piqe')})
        row['above_clean_lifeiqa'] = int((term['lifeiqa'] > above).sum())
        row['fidelity_only_above_clean_lifeiqa'] = int((base['lifeiqa'] > above).sum())
        row['median_psnr_change'] = float((term['psnr'] - base['psnr']).median())
        out.append(row)
    return out


def read_rows(path: Path) -> tuple[list[dict], dict[str, str]]:
    """The per-image rows of an earlier run (measures as floats) and that run's provenance columns."""
    with path.open(newline='') as f:
        records = list(csv.DictReader(f))
    columns = {'image', 'task', 'form', 'method', *FIDELITY, *NO_REFERENCE}
    rows = [{k: float(v) if k in FIDELITY + NO_REFERENCE else v for k, v in r.items() if k in columns} for r in records]
    return rows, {k: v for k, v in records[0].items() if k not in columns}


def learning_rate(text: str) -> tuple[str, float]:
    """``FORM=LR`` of ``--lr``: a form of ``LEARNING_RATE`` and a positive, finite learning rate."""
    form, sep, value = text.partition('=')
    if form not in LEARNING_RATE or not sep:
        raise argparse.ArgumentTypeError(f'{text!r}: expected FORM=LR, FORM one of {", ".join(LEARNING_RATE)}')
    try:
        lr = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f'{text!r}: {value!r} is not a number') from None
    if not 0 < lr < math.inf:
        raise argparse.ArgumentTypeError(f'{text!r}: the learning rate must be positive and finite')
    return form, lr


def parse_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line, checked; ``learning_rates`` holds every form's rate (``--lr`` over ``LEARNING_RATE``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        '--from-csv', type=Path, help="write the paired CSV of an earlier run's per-image CSV, and exit"
    )
    parser.add_argument('--photos', type=Path, help='the images/ folder of lifeiqa fetch-photos')
    parser.add_argument('--count', type=int, default=10, help='photographs of the part')
    parser.add_argument('--size', type=int, default=256, help='side of the centre crop')
    parser.add_argument('--steps', type=int, default=100, help='Adam steps')
    parser.add_argument('--weight', type=float, default=0.003, help='weight of both Life-IQA terms')
    parser.add_argument('--tasks', nargs='+', choices=sorted(TASKS), default=sorted(TASKS))
    parser.add_argument('--forms', nargs='+', choices=sorted(LEARNING_RATE), default=sorted(LEARNING_RATE))
    parser.add_argument('--device', default='cpu')
    parser.add_argument('--methods', nargs='+', choices=METHODS, default=list(METHODS), help='restoration methods')
    parser.add_argument('--part', choices=('test', 'val'), default='test', help="part of the default model's split")
    parser.add_argument(
        '--lr', nargs='+', type=learning_rate, default=[], metavar='FORM=LR', help='Adam learning rates, by form'
    )
    parser.add_argument(
        '--measures',
        nargs='+',
        choices=FIDELITY + NO_REFERENCE,
        default=list(FIDELITY + NO_REFERENCE),
        help='what to measure (comparing methods with fidelity only needs psnr, niqe, brisque, piqe, lifeiqa)',
    )
    parser.add_argument('--weights', type=Path, help="the loss terms' Life-IQA weights (default: the shipped)")
    parser.add_argument('--out', type=Path, default=RESULTS / 'restoration_loss.csv', help='per-image CSV')
    args = parser.parse_args(argv)
    if args.from_csv:
        return args
    if args.photos is None:
        parser.error('--photos is required (unless --from-csv)')
    if set(args.methods) != {'fidelity only'}:
        if 'fidelity only' not in args.methods:
            parser.error("the Life-IQA terms are compared with fidelity only: add 'fidelity only' to --methods")
        if not set(PAIRED) <= set(args.measures):
            parser.error(f'comparing methods with fidelity only needs --measures {" ".join(PAIRED)}')
    chosen = dict(args.lr)
    if len(chosen) != len(args.lr):
        parser.error('--lr names a form twice')
    args.learning_rates = {form: chosen.get(form, LEARNING_RATE[form]) for form in args.forms}
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_arguments(argv)
    if args.from_csv:
        rows, traced = read_rows(args.from_csv)
        pairs = paired(rows)
        if not pairs:
            raise SystemExit(f'{args.from_csv} holds no Life-IQA term to compare with fidelity only')
        write_results(pairs, args.from_csv.with_name(f'{args.from_csv.stem}_paired.csv'), traced)
        return

    # traced before the run: the commit and the tree as they were when it started
    weights = args.weights or resolve_weight_file('lifeiqa')
    traced = {
        'part': args.part,
        'steps': args.steps,
        'weight': args.weight,
        **{f'lr_{form}': lr for form, lr in args.learning_rates.items()},
        **provenance(weights=weights),
    }
    photos = split_photographs(args.photos, args.count, args.size, args.part)
    example = args.out.with_name(f'{args.out.stem}_example.png')
    rows = run(
        photos,
        args.tasks,
        args.forms,
        args.steps,
        args.weight,
        args.size,
        args.device,
        example,
        args.weights,
        tuple(args.methods),
        args.learning_rates,
        tuple(args.measures),
    )
    summary = summarise(rows)
    write_results(rows, args.out, traced)
    write_results(summary, args.out.with_name(f'{args.out.stem}_summary.csv'), traced)
    pairs = paired(rows)
    if pairs:  # a method to compare with fidelity only was run
        write_results(pairs, args.out.with_name(f'{args.out.stem}_paired.csv'), traced)
    measures = measured(rows)
    print(f'\n{"task":<9}{"form":<9}{"method":<15}' + ''.join(f'{m:>9}' for m in measures))
    for s in summary:
        print(f'{s["task"]:<9}{s["form"]:<9}{s["method"]:<15}' + ''.join(f'{s[m]:>9.3f}' for m in measures))
    print(f'(medians over {len(photos)} photographs; per-image rows in {args.out})')


if __name__ == '__main__':
    main()

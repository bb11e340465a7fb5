"""Per-image latency and peak memory of Life-IQA, its bare Swin-B backbone, and pyiqa's topiq_nr and musiq.

All models have random weights and are built offline. Each is fed one image (batch 1) of every
size in ``--sizes`` (WxH). Timing: all models are loaded in one process and run round-robin
(one call of each model per repeat, after ``--warmup`` calls), so load from other processes hits
them alike; latency is the median over repeats, and each ratio to the backbone is the median (and range)
of the per-repeat ratios. Peak memory: each model runs in a fresh subprocess (build, one warm-up
call, one more call); on CPU that is the growth of the process's peak resident set (Linux
``VmHWM``) over its value after the imports, so it counts the weights, the activations and
allocator overhead; on CUDA it is ``torch.cuda.max_memory_allocated``.

The backbone is timed on the crops Life-IQA's backbone sees (one at 224x224, ``test_sample`` at
larger sizes; cropping not timed), so Life-IQA / backbone is the cost of everything else:
cropping, normalisation and the head. "lifeiqa head only" is Life-IQA with its backbone replaced
by cached features, which times that remainder directly.

Usage: HF_HUB_OFFLINE=1 python benchmarks/speed.py [--device cpu|cuda] [--repeats 5] [--warmup 1]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pyiqa
import timm
import torch
from pyiqa.archs import build_network
from results_io import provenance, write_results
from torch import nn

import pyiqa_lifeiqa.archs.lifeiqa_arch  # noqa: F401  (LifeIQA in pyiqa's ARCH_REGISTRY)
from pyiqa_lifeiqa.archs.config import LifeIQAConfig
from pyiqa_lifeiqa.archs.crops import take_crops
from pyiqa_lifeiqa.device import default_device

RESULTS = Path(__file__).resolve().parent / 'results'
SIZES = {'224x224': (224, 224), '512x384': (384, 512), '1024x768': (768, 1024)}  # WxH -> tensor (H, W)
# LifeIQAConfig's defaults are the paper configuration (Swin-B, 4 experts, top-2, 224 crops).
PAPER = LifeIQAConfig()


@dataclass(frozen=True)
class Model:
    """A benchmarked model.

    Attributes:
        build: Makes the model, in eval mode, on a device; it maps its input to scores.
        prepare: Turns the (1, 3, H, W) image into the model's input, outside the timing.
        memory: Whether to measure its peak memory.
    """

    build: Callable[[torch.device], nn.Module]
    prepare: Callable[[torch.Tensor], torch.Tensor] = lambda image: image
    memory: bool = True


def metric(name: str, **opts) -> Callable[[torch.device], nn.Module]:
    """A builder of the pyiqa metric ``name`` (``opts`` override its config)."""
    return lambda device: pyiqa.create_metric(name, device=device, **opts)


def paper_lifeiqa(device: torch.device) -> nn.Module:
    """Life-IQA in the paper configuration, random weights (no download)."""
    return build_network({'type': 'LifeIQA', 'backbone_pretrain': False}).eval().to(device)


def swin_backbone(device: torch.device) -> nn.Module:
    """The bare backbone as LifeIQA creates it: timm features_only, its last two stages."""
    backbone = timm.create_model(PAPER.backbone, pretrained=False, features_only=True, out_indices=(-2, -1))
    return backbone.eval().to(device)


def lifeiqa_crops(image: torch.Tensor) -> torch.Tensor:
    """The crops the paper Life-IQA feeds its backbone for ``image`` in eval mode."""
    return take_crops(image, PAPER.crop_size, min_crops=PAPER.test_sample, working_size=PAPER.working_size)[0]


class CachedFeatures(nn.Module):
    """Stands in for a backbone: runs it once per input shape, then returns those features again."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.cache: dict[tuple[int, ...], list[torch.Tensor]] = {}

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        key = tuple(x.shape)
        if key not in self.cache:
            self.cache[key] = self.backbone(x)
        return self.cache[key]


def default_variant(**fields) -> Callable[[torch.device], nn.Module]:
    """The default model's network with ``fields`` changed (random weights): a candidate's cost."""
    opts = {'type': 'LifeIQA', 'config': 'lifeiqa', 'backbone_pretrain': False, **fields}
    return lambda device: build_network(opts).eval().to(device)


def lifeiqa_head_only(device: torch.device) -> nn.Module:
    """Life-IQA whose backbone returns cached features: times cropping, normalisation and the head."""
    model = paper_lifeiqa(device)
    model.backbone = CachedFeatures(model.backbone)
    return model


BASELINE = 'swin-b backbone'
# One line per model.
MODELS: dict[str, Model] = {
    BASELINE: Model(swin_backbone, prepare=lifeiqa_crops),
    'lifeiqa (paper)': Model(paper_lifeiqa),
    'lifeiqa head only': Model(lifeiqa_head_only, memory=False),
    'topiq_nr': Model(metric('topiq_nr', pretrained=False, backbone_pretrain=False)),
    'musiq': Model(metric('musiq', pretrained=False)),
    'lifeiqa (default)': Model(metric('lifeiqa')),
    'lifeiqa (default on lite1)': Model(default_variant(backbone='tf_efficientnet_lite1')),
    'lifeiqa (default on lite2)': Model(default_variant(backbone='tf_efficientnet_lite2')),
    'lifeiqa (default, crops of 224)': Model(default_variant(crop_size=224)),
}


def random_image(size: str, device: torch.device) -> torch.Tensor:
    """A fixed random (1, 3, H, W) image in [0, 1] of ``size`` (WxH)."""
    height, width = SIZES[size]
    return torch.rand(1, 3, height, width, generator=torch.Generator().manual_seed(0)).to(device)


def timed(fn: Callable[[], object], device: torch.device) -> float:
    """Seconds one call of ``fn`` takes (CUDA work included)."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    fn()
    if device.type == 'cuda':
        torch.cuda.synchronize(device)
    return time.perf_counter() - start


@torch.inference_mode()
def time_models(
    models: dict[str, nn.Module], size: str, device: torch.device, warmup: int, repeats: int
) -> dict[str, list[float]]:
    """Seconds per call of each of ``models`` (built from ``MODELS``) on one image of ``size``, round-robin."""
    image = random_image(size, device)
    names = list(models)
    inputs = {name: MODELS[name].prepare(image) for name in names}
    times: dict[str, list[float]] = {name: [] for name in names}
    for repeat in range(warmup + repeats):
        for name in names:
            seconds = timed(lambda name=name: models[name](inputs[name]), device)
            if repeat >= warmup:
                times[name].append(seconds)
    return times


def peak_rss_kib() -> int:
    """Peak resident set of this process image (Linux ``VmHWM``, KiB).

    Unlike ``getrusage``'s ``ru_maxrss``, which a child inherits from the process that forked it,
    ``VmHWM`` starts afresh at ``exec``.
    """
    for line in Path('/proc/self/status').read_text().splitlines():
        if line.startswith('VmHWM:'):
            return int(line.split()[1])
    raise RuntimeError('no VmHWM in /proc/self/status: CPU peak memory is measured on Linux only')


@torch.inference_mode()
def measure_memory_here(name: str, size: str, device: torch.device) -> dict:
    """Peak memory (MiB) of building a model and calling it twice, in this (fresh) process."""
    base_kib = peak_rss_kib()
    model = MODELS[name].build(device)
    x = MODELS[name].prepare(random_image(size, device))
    for _ in range(2):
        model(x)
    if device.type == 'cuda':
        peak_mib = torch.cuda.max_memory_allocated(device) / 2**20
    else:
        peak_mib = (peak_rss_kib() - base_kib) / 2**10
    params = sum(p.numel() for p in model.parameters())
    return {'peak_mib': peak_mib, 'params': params}


def measure_memory(name: str, size: str, device: torch.device) -> dict:
    """:func:`measure_memory_here` in a fresh interpreter."""
    command = [sys.executable, __file__, '--memory-of', name, '--sizes', size, '--device', str(device)]
    command += ['--threads', str(torch.get_num_threads())]
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f'memory run of {name} at {size} failed:\n{done.stderr}')
    return json.loads(done.stdout.splitlines()[-1])


def device_name(device: torch.device) -> str:
    """The GPU's name, or the CPU's model name (Linux) or architecture."""
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    cpuinfo = Path('/proc/cpuinfo')
    for line in cpuinfo.read_text().splitlines() if cpuinfo.exists() else []:
        if line.startswith('model name'):
            return line.split(':', 1)[1].strip()
    return platform.machine()


def benchmark(names: list[str], sizes: list[str], device: torch.device, warmup: int, repeats: int) -> list[dict]:
    """One row per model and size: latency, ratio to the backbone, peak memory, parameters."""
    models = {name: MODELS[name].build(device) for name in names}
    rows = []
    for size in sizes:
        times = time_models(models, size, device, warmup, repeats)
        for name in names:
            ratios = [t / b for t, b in zip(times[name], times[BASELINE], strict=True)]
            memory = measure_memory(name, size, device) if MODELS[name].memory else {}
            rows.append(
                {
                    'model': name,
                    'input': size,
                    'ms_per_image': 1e3 * statistics.median(times[name]),
                    'ms_min': 1e3 * min(times[name]),
                    'ratio_to_backbone': statistics.median(ratios),
                    'ratio_min': min(ratios),
                    'ratio_max': max(ratios),
                    'peak_mib': memory.get('peak_mib'),
                    'params_m': memory['params'] / 1e6 if memory else None,
                }
            )
    return rows


def cell(value: object, fmt: str) -> str:
    return '-' if value is None else format(value, fmt)


def print_table(rows: list[dict]) -> None:
    print('| model | input | ms/image (median) | ms min | x backbone (median) | range | peak MiB | params (M) |')
    print('|---|---|---:|---:|---:|---:|---:|---:|')
    for r in rows:
        print(
            f'| {r["model"]} | {r["input"]} | {r["ms_per_image"]:.1f} | {r["ms_min"]:.1f} | '
            f'{r["ratio_to_backbone"]:.3f} | {r["ratio_min"]:.3f}-{r["ratio_max"]:.3f} | '
            f'{cell(r["peak_mib"], ".0f")} | {cell(r["params_m"], ".2f")} |'
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--device', default=default_device())
    parser.add_argument('--sizes', nargs='+', choices=list(SIZES), default=list(SIZES))
    parser.add_argument('--models', nargs='+', choices=list(MODELS), default=list(MODELS))
    parser.add_argument('--warmup', type=int, default=1, help='untimed calls per model first (>= 1)')
    parser.add_argument('--csv', type=Path, help='results file (default: benchmarks/results/speed_<device>.csv)')
    parser.add_argument('--repeats', type=int, default=5, help='timed calls per model')
    parser.add_argument('--threads', type=int, help="torch CPU threads (default: torch's default)")
    parser.add_argument('--memory-of', choices=list(MODELS), help=argparse.SUPPRESS)  # the subprocess's job
    args = parser.parse_args()
    traced = provenance()  # the tree as it was when the run started; random weights: no weight file
    device = torch.device(args.device)
    if args.threads is not None:
        torch.set_num_threads(args.threads)

    if args.memory_of:
        print(json.dumps(measure_memory_here(args.memory_of, args.sizes[0], device)))
        return
    if args.warmup < 1 or args.repeats < 1:
        parser.error('--warmup and --repeats must be at least 1')
    names = list(dict.fromkeys([BASELINE, *args.models]))
    rows = benchmark(names, args.sizes, device, args.warmup, args.repeats)
    print_table(rows)
    ratio = {(r['model'], r['input']): r['ratio_to_backbone'] for r in rows}
    for size in args.sizes:
        if ('lifeiqa (paper)', size) in ratio and ('lifeiqa head only', size) in ratio:
            print(
                f'Life-IQA head overhead at {size} (backbone on identical crops = 1): '
                f'end to end {ratio["lifeiqa (paper)", size] - 1:+.1%}, '
                f'head timed alone {ratio["lifeiqa head only", size]:.1%} (target <= 3%)'
            )
        if ('lifeiqa (default)', size) in ratio and ('topiq_nr', size) in ratio:
            speedup = ratio['topiq_nr', size] / ratio['lifeiqa (default)', size]
            print(f'default lifeiqa vs topiq_nr at {size}: {speedup:.1f}x faster (target > 1)')
    extra = {
        'device': device_name(device),
        'threads': torch.get_num_threads(),
        'warmup': args.warmup,
        'repeats': args.repeats,
    }
    out = args.csv or RESULTS / f'speed_{device.type}.csv'
    write_results(rows, out, {**extra, **traced})
    print(f'{extra["device"]}, {extra["threads"]} threads; wrote {out}')


if __name__ == '__main__':
    main()

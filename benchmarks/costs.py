"""What a network costs: parameters (all and outside the backbone), FLOPs of one crop, CPU latency per image."""

from __future__ import annotations

import copy
import statistics
import time

import torch
from pyiqa.archs import build_network
from torch.utils.flop_counter import FlopCounterMode

import pyiqa_lifeiqa.archs.lifeiqa_arch  # noqa: F401  (registers LifeIQA)


def parameter_counts(network: dict, backbone: str) -> tuple[int, int]:
    """Total parameters of a network and those outside its backbone."""
    import timm

    total = sum(p.numel() for p in build_network(copy.deepcopy(network)).parameters())
    backbone_params = sum(p.numel() for p in timm.create_model(backbone, features_only=True).parameters())
    return total, total - backbone_params


def flops_per_crop(network: dict, size: int = 224) -> int:
    """FLOPs of one ``size`` x ``size`` crop (matmul FLOPs = 2 x MAC), counted by torch.

    Autograd stays on: under ``no_grad`` torch takes a fused attention path the counter misses.
    """
    net = build_network({**copy.deepcopy(network), 'crop_size': size}).eval()
    counter = FlopCounterMode(display=False)
    with counter:
        net(torch.rand(1, 3, size, size))
    return counter.get_total_flops()


@torch.inference_mode()
def latencies_ms(nets: dict[str, torch.nn.Module], image_size: tuple[int, int], repeats: int = 30) -> dict[str, float]:
    """Median CPU milliseconds per dataset-sized image (all its test crops) of each network or metric.

    They are timed in turns (one image each, round after round) after a warm-up, so that load
    from other processes on a shared machine falls on all of them alike.
    """
    image = torch.rand(1, 3, *image_size)
    for net in nets.values():
        net.eval()
        for _ in range(3):
            net(image)
    times = {name: [] for name in nets}
    for _ in range(repeats):
        for name, net in nets.items():
            start = time.perf_counter()
            net(image)
            times[name].append(time.perf_counter() - start)
    return {name: 1000.0 * statistics.median(values) for name, values in times.items()}

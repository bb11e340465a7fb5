"""Write the bundled example images: one clean photo and a mild and a strong version of each distortion.

The photo is scikit-image's ``coffee`` at its own size (600x400), which the default model never saw
in training (its training set leaves it out). Distortions come from the project's synthetic-dataset
module at fixed severities, so the files are reproducible.

Usage: python examples/make_example_images.py [--out examples/images]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image

from pyiqa_lifeiqa.data.distortions import distort

# (kind, distortion, severity in [0, 1] of its mild and of its strong version)
VERSIONS = (
    ('blur', 'gaussian_blur', 0.25, 1.0),  # sigma 1.2 and 6 px
    ('noise', 'gaussian_noise', 0.25, 0.75),  # sigma 5 and 19 of 255
    ('jpeg', 'jpeg', 0.0, 1.0),  # quality 40 and 3
    ('resample', 'resample', 0.0, 0.75),  # down-up by 1.5 and 5.3
    ('darken', 'darken', 0.25, 0.75),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path(__file__).resolve().parent / 'images')
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob('coffee_*.png'):
        old.unlink()
    clean = skimage.data.coffee()
    Image.fromarray(clean).save(args.out / 'coffee_clean.png')
    for kind, name, mild, strong in VERSIONS:
        for level, severity in (('mild', mild), ('strong', strong)):
            out = distort(clean, name, severity, np.random.default_rng(0))
            Image.fromarray(out).save(args.out / f'coffee_{kind}_{level}.png')
    print(f'wrote {1 + 2 * len(VERSIONS)} images to {args.out}')


if __name__ == '__main__':
    main()

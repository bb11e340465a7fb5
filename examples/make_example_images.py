"""Write the bundled example images: one clean photo and distorted versions of it.

The photo is scikit-image's ``coffee``, which the default model never saw in training (its
training set leaves it out). Distortions come from the project's synthetic-dataset module at
fixed severities, so the files are reproducible.

Usage: python examples/make_example_images.py [--out examples/images]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import skimage.data
from PIL import Image, ImageOps

from pyiqa_lifeiqa.data.distortions import distort

SIZE = (256, 384)  # height, width
# (file stem, distortion, severity in [0, 1]) for the distorted versions
VERSIONS = (
    ('coffee_blur_mild', 'gaussian_blur', 0.25),
    ('coffee_blur_strong', 'gaussian_blur', 1.0),
    ('coffee_noise_mild', 'gaussian_noise', 0.25),
    ('coffee_noise_strong', 'gaussian_noise', 1.0),
    ('coffee_jpeg_strong', 'jpeg', 1.0),
    ('coffee_darken', 'darken', 0.75),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, default=Path(__file__).resolve().parent / 'images')
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    photo = ImageOps.fit(Image.fromarray(skimage.data.coffee()), SIZE[::-1], Image.Resampling.LANCZOS)
    clean = np.asarray(photo)
    Image.fromarray(clean).save(args.out / 'coffee_clean.png')
    for stem, name, severity in VERSIONS:
        out = distort(clean, name, severity, np.random.default_rng(0))
        Image.fromarray(out).save(args.out / f'{stem}.png')
    print(f'wrote {1 + len(VERSIONS)} images to {args.out}')


if __name__ == '__main__':
    main()

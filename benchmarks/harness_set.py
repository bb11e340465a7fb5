"""A small labelled set for pyiqa's own benchmark harness, and its ``--data_opt`` file.

Six of scikit-image's colour photographs (none of them in the default model's training data), their
longer side resized to 512 px, each clean and with Gaussian blur, JPEG and Gaussian noise at three
levels: 60 images whose label is the level's quality (3 clean, 2 / 1 / 0 for levels 1 / 2 / 3), the
set issue 29 first measured the default model on. The data-option file also names each size of a
``benchmarks/multisize.py`` set (``--multisize DIR``), so that pyiqa's ``benchmark_results.py``
scores those too, against their pseudo-MOS.

Usage:
    python benchmarks/harness_set.py --out datasets/harness_set [--multisize datasets/multisize_test]
    # then, from a checkout of IQA-PyTorch (for its benchmark_results.py and default dataset options):
    python benchmark_results.py -m lifeiqa niqe brisque piqe --data_opt DIR/data_opt.yml --save_result_path OUT.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from multisize import SIZES, gaussian_blur, gaussian_noise, jpeg
from PIL import Image

from pyiqa_lifeiqa.data.pristine import skimage_photo

PHOTOS = ('astronaut', 'chelsea', 'coffee', 'rocket', 'stereo_motorcycle', 'immunohistochemistry')
LEVELS = {
    'gaussian_blur': lambda x, r, level: gaussian_blur(x, (1.0, 2.0, 4.0)[level - 1]),
    'jpeg': lambda x, r, level: jpeg(x, (50, 20, 8)[level - 1]),
    'gaussian_noise': lambda x, r, level: gaussian_noise(x, (5, 15, 30)[level - 1], r),
}


def data_opt(name: str, root: Path) -> dict:
    """pyiqa's options of a ``GeneralNRDataset`` over ``root/images`` and ``root/meta_info.csv`` (all tested)."""
    return {
        name: {
            'name': name,
            'type': 'GeneralNRDataset',
            'dataroot_target': str(root.resolve() / 'images'),
            'meta_info_file': str(root.resolve() / 'meta_info.csv'),
            'phase': 'test',
        }
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--out', type=Path, required=True)
    parser.add_argument('--multisize', type=Path, help='a benchmarks/multisize.py --data folder to name as well')
    args = parser.parse_args()
    (args.out / 'images').mkdir(parents=True, exist_ok=True)
    rows = []
    for index, name in enumerate(PHOTOS):
        photo = skimage_photo(name)
        scale = 512 / max(photo.size)  # chelsea (451 px) is enlarged a little
        clean = np.asarray(photo.resize((round(photo.width * scale), round(photo.height * scale)), Image.LANCZOS))
        Image.fromarray(clean).save(args.out / 'images' / f'{name}.png')
        rows.append({'image': f'{name}.png', 'mos': 3})
        for distortion, apply in LEVELS.items():
            for level in (1, 2, 3):
                image = f'{name}_{distortion}_{level}.png'
                Image.fromarray(apply(clean, np.random.default_rng([index, level]), level)).save(
                    args.out / 'images' / image
                )
                rows.append({'image': image, 'mos': 3 - level})
    pd.DataFrame(rows).to_csv(args.out / 'meta_info.csv', index=False)
    options = data_opt('skimage_levels_512', args.out)
    if args.multisize:
        for size in SIZES:
            options |= data_opt(f'multisize_{size}', args.multisize / size)
    (args.out / 'data_opt.yml').write_text(yaml.safe_dump(options, sort_keys=False))
    print(f'wrote {len(rows)} images and {args.out / "data_opt.yml"}')


if __name__ == '__main__':
    main()

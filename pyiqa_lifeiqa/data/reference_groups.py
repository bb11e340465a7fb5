"""Training batches of reference groups: several versions of one content, cropped alike.

A random batch from a KADID-like set seldom holds two versions of one reference image, so a
ranking loss over the batch (pyiqa's ``RankLoss``) learns almost only across contents, and the
model never has to tell a clean image from its mildly distorted versions.
``ReferenceGroupDataset`` reads the same files as pyiqa's ``GeneralNRDataset`` (the layout of
:mod:`pyiqa_lifeiqa.data.synthetic`), but each item is a group: one image and ``group_size - 1``
other images of its reference, the pristine one among them when ``include_pristine``, all
cropped at one position and flipped alike. ``LifeIQAModel`` flattens a batch of groups
``[B, K, C, H, W]`` into ``B * K`` images, so the batch's ranking loss also compares versions of
one content. An epoch still visits every image once as the first of a group. In a pyiqa option
file::

    datasets:
      train:
        type: ReferenceGroupDataset
        group_size: 4              # images per group (batch_size_per_gpu counts groups)
        include_pristine: true     # every group holds its reference's pristine image
        augment: {hflip: true, random_crop: 160}   # the only augmentations it takes
        ...                        # the rest as for GeneralNRDataset
"""

from __future__ import annotations

import random
from collections import defaultdict

import torch
from PIL import Image
from pyiqa.data.general_nr_dataset import GeneralNRDataset
from pyiqa.utils.registry import DATASET_REGISTRY
from torchvision import transforms
from torchvision.transforms.functional import to_tensor

REFERENCE_COLUMN = 'ref_name'
DISTORTION_COLUMN = 'distortion'
PRISTINE = 'pristine'
# pyiqa's Paired* transforms take the group as a list, but PairedRandomCrop (pyiqa 0.1.16) reuses
# its row offset as its loop index; torchvision's crop and flip one stacked [K, C, H, W] tensor alike.
GROUP_AUGMENTS = {
    'random_crop': transforms.RandomCrop,
    'hflip': lambda on: transforms.RandomHorizontalFlip(0.5 if on else 0.0),
    'vflip': lambda on: transforms.RandomVerticalFlip(0.5 if on else 0.0),
}


@DATASET_REGISTRY.register()
class ReferenceGroupDataset(GeneralNRDataset):
    """``GeneralNRDataset`` whose items are groups of images of one reference (see the module docstring).

    Args:
        opt: pyiqa dataset options: those of ``GeneralNRDataset`` (its meta-info file needs the
            columns ``ref_name`` and, for ``include_pristine``, ``distortion``), plus
            ``group_size`` (default 4) and ``include_pristine`` (default True). ``augment`` takes
            ``random_crop``, ``hflip`` and ``vflip`` only.

    Raises:
        ValueError: ``group_size`` below 2, a missing column, an unknown augmentation, or a
            reference of the split with fewer than ``group_size`` images (or no pristine image).
    """

    def __init__(self, opt: dict) -> None:
        self.group_size = int(opt.get('group_size', 4))
        self.include_pristine = bool(opt.get('include_pristine', True))
        if self.group_size < 2:
            raise ValueError(f'group_size must be at least 2, got {self.group_size}')
        super().__init__(opt)
        self.members: dict[str, list[int]] = defaultdict(list)
        self.pristine: dict[str, int] = {}
        for index, (_, _, reference, distortion) in enumerate(self.paths_mos):
            self.members[reference].append(index)
            if distortion == PRISTINE:
                self.pristine[reference] = index
        for reference, members in self.members.items():
            if len(members) < self.group_size:
                raise ValueError(
                    f'reference {reference!r} has {len(members)} images in the {self.phase} split, '
                    f'fewer than group_size {self.group_size}'
                )
            if self.include_pristine and reference not in self.pristine:
                raise ValueError(f'reference {reference!r} has no {PRISTINE} image in the {self.phase} split')

    def init_path_mos(self, opt: dict) -> None:
        """``[path, mos, reference, distortion]`` per image (pyiqa's split and MOS options then apply)."""
        super().init_path_mos(opt)
        required = [REFERENCE_COLUMN] + ([DISTORTION_COLUMN] if self.include_pristine else [])
        missing = [column for column in required if column not in self.meta_info.columns]
        if missing:
            raise ValueError(f'{opt["meta_info_file"]} has no column {", ".join(missing)} ({type(self).__name__})')
        distortions = self.meta_info.get(DISTORTION_COLUMN, [''] * len(self.meta_info))
        for item, reference, distortion in zip(
            self.paths_mos, self.meta_info[REFERENCE_COLUMN], distortions, strict=True
        ):
            item += [str(reference), str(distortion)]

    def get_transforms(self, opt: dict) -> None:
        augment = opt.get('augment') or {}
        unknown = sorted(set(augment) - set(GROUP_AUGMENTS))
        if unknown:
            raise ValueError(
                f'{type(self).__name__} takes the augmentations {", ".join(GROUP_AUGMENTS)}; got {", ".join(unknown)}'
            )
        self.img_range = opt.get('img_range', 1.0)
        self.trans = transforms.Compose([GROUP_AUGMENTS[key](value) for key, value in augment.items()])

    def group(self, index: int) -> list[int]:
        """Indices of the group of image ``index``: it first, then the pristine image (if asked), then random others."""
        reference = self.paths_mos[index][2]
        group = [index]
        if self.include_pristine and index != self.pristine[reference]:
            group.append(self.pristine[reference])
        others = [member for member in self.members[reference] if member not in group]
        return group + random.sample(others, self.group_size - len(group))

    def __getitem__(self, index: int) -> dict:
        group = self.group(index)
        images = [to_tensor(Image.open(self.paths_mos[i][0]).convert('RGB')) for i in group]
        if len({image.shape for image in images}) > 1:
            sizes = ', '.join(
                f'{self.paths_mos[i][0]} {tuple(image.shape[1:])}' for i, image in zip(group, images, strict=True)
            )
            raise ValueError(f'the images of one reference group differ in size: {sizes}')
        images = torch.stack(images)
        return {
            'img': self.trans(images) * self.img_range,
            'mos_label': torch.tensor([[float(self.paths_mos[i][1])] for i in group]),
            'img_path': self.paths_mos[index][0],
        }

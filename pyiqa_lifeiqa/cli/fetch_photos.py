"""``lifeiqa fetch-photos``: the listed real photographs from Debian packages, hash-checked, with provenance."""

from __future__ import annotations

import argparse


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        'fetch-photos',
        help='fetch the 229 listed photographs from Debian packages (sha256-checked) with their provenance',
        description='Download the Debian packages of the photo list (apt-get download; run `apt-get update` once '
        'first), read the listed files from them (unpacking Qt resource bundles), check every sha256 and write '
        'OUT/images/ and OUT/provenance.csv (package, path, licence).',
    )
    parser.add_argument('--out', required=True, help='output folder (its images/ must be empty or absent)')
    parser.add_argument('--debs', help='folder that keeps the downloaded .deb files (default: OUT/debs)')
    parser.add_argument('--list', help='a photo list TSV in the same format (default: the shipped list)')
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pyiqa_lifeiqa.data.photos import fetch_photos, read_photo_list

    photos = read_photo_list(args.list)
    out = fetch_photos(args.out, args.debs, photos)
    print(f'wrote {len(photos)} photographs to {out / "images"} and their provenance to {out / "provenance.csv"}')
    return 0

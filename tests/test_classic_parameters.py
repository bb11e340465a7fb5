"""Specification of the offline NIQE / BRISQUE parameter files (pyiqa_lifeiqa/classic_parameters.py).

The conversion is checked on small stand-ins written here in the archives' formats; the real
archives give pyiqa's published calibration values (benchmarks/README.md, "Classic baselines").
"""

import io
import tarfile

import numpy as np
import pytest
import scipy.io
import torch

from pyiqa_lifeiqa import classic_parameters
from pyiqa_lifeiqa.classic_parameters import (
    BaselineFetchError,
    SourceArchive,
    brisque_parameters,
    niqe_parameters,
    parameter_file,
    prepare_baselines,
)

LIBSVM_MODEL = b"""svm_type epsilon_svr
kernel_type rbf
gamma 0.05
nr_class 2
total_sv 2
rho -153.591
probA 5.71401
SV
-1024 1:-0.5 2:0.25 36:0.125
512.5 3:1 36:-1
"""


def npz(**arrays) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def test_niqe_parameters_take_pyiqa_keys_and_shapes():
    mu, cov = np.arange(36.0).reshape(1, 36), np.eye(36)
    params = niqe_parameters(npz(mu_pris_param=mu, cov_pris_param=cov))
    assert params['mu_prisparam'].shape == (1, 36) and np.array_equal(params['mu_prisparam'], mu)
    assert np.array_equal(params['cov_prisparam'], cov)


def test_niqe_parameters_of_the_wrong_shape_are_refused():
    with pytest.raises(ValueError, match='36x36'):
        niqe_parameters(npz(mu_pris_param=np.zeros(36), cov_pris_param=np.zeros((6, 6))))
    with pytest.raises(ValueError, match='no cov_pris_param array'):
        niqe_parameters(npz(mu_pris_param=np.zeros(36)))


def test_a_libsvm_model_gives_dual_coefficients_and_dense_support_vectors():
    coef, sv = brisque_parameters(LIBSVM_MODEL)
    assert coef.tolist() == [-1024.0, 512.5]
    assert sv.shape == (2, 36)
    assert sv[0, [0, 1, 35]].tolist() == [-0.5, 0.25, 0.125] and sv[0, 2:35].sum() == 0
    assert sv[1, 2] == 1 and sv[1, 35] == -1


@pytest.mark.parametrize(
    'model, message',
    [
        (LIBSVM_MODEL.replace(b'epsilon_svr', b'c_svc'), 'rbf epsilon_svr'),
        (LIBSVM_MODEL.replace(b'total_sv 2', b'total_sv 3'), '2 support vectors, header says 3'),
        (LIBSVM_MODEL.replace(b'36:-1', b'37:-1'), 'feature index 37'),
    ],
)
def test_a_libsvm_model_that_is_not_brisque_s_is_refused(model, message):
    with pytest.raises(ValueError, match=message):
        brisque_parameters(model)


def archive(path, member: str, content: bytes):
    with tarfile.open(path, 'w:gz') as tar:
        info = tarfile.TarInfo(member)
        info.size = len(content)
        tar.addfile(info, io.BytesIO(content))
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_prepare_writes_files_that_pyiqa_s_niqe_and_brisque_load(tmp_path, monkeypatch):
    archives = tmp_path / 'archives'
    archives.mkdir()
    mu = np.random.default_rng(0).random((1, 36))
    niqe_sha = archive(archives / 'n.tar.gz', 'n/params.npz', npz(mu_pris_param=mu, cov_pris_param=np.eye(36)))
    brisque_sha = archive(archives / 'b.tar.gz', 'b/allmodel', LIBSVM_MODEL)
    monkeypatch.setattr(classic_parameters, 'NIQE_SOURCE', SourceArchive('n==1', 'n.tar.gz', niqe_sha, 'n/params.npz'))
    monkeypatch.setattr(
        classic_parameters, 'BRISQUE_SOURCE', SourceArchive('b==1', 'b.tar.gz', brisque_sha, 'b/allmodel')
    )
    files = prepare_baselines(tmp_path / 'out', archives)
    assert np.array_equal(scipy.io.loadmat(files['niqe'])['mu_prisparam'], mu)
    coef, sv = torch.load(files['brisque'], weights_only=True)
    assert coef.dtype == sv.dtype == torch.float64 and sv.shape == (2, 36)

    from pyiqa.archs.brisque_arch import BRISQUE
    from pyiqa.archs.niqe_arch import NIQE

    assert torch.equal(NIQE(pretrained_model_path=str(files['niqe'])).mu_pris_param, torch.from_numpy(mu.ravel()))
    assert torch.equal(BRISQUE(pretrained_model_path=str(files['brisque'])).sv_coef, coef)
    assert parameter_file('niqe', tmp_path / 'out') == files['niqe']
    assert parameter_file('brisque', tmp_path / 'out') == files['brisque']


def test_only_prepared_niqe_and_brisque_have_a_parameter_file(tmp_path):
    assert parameter_file('niqe', tmp_path) is None  # not prepared yet
    (tmp_path / classic_parameters.NIQE_FILE).write_bytes(b'x')
    assert parameter_file('niqe', tmp_path) == tmp_path / classic_parameters.NIQE_FILE
    assert parameter_file('piqe', tmp_path) is None


def test_an_archive_with_another_hash_is_refused(tmp_path, monkeypatch):
    (tmp_path / 'n.tar.gz').write_bytes(b'tampered')
    monkeypatch.setattr(classic_parameters, 'NIQE_SOURCE', SourceArchive('n==1', 'n.tar.gz', '0' * 64, 'n/params.npz'))
    with pytest.raises(BaselineFetchError, match='expected 0000'):
        prepare_baselines(tmp_path / 'out', tmp_path)

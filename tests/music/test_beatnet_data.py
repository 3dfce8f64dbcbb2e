"""Training songs for the beat network: only the tuning files of the dev set are read, and the recording
chain that colours rendered songs keeps their length and timing."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from storyreel.music.beatnet import SR
from storyreel.music.beatnet_data import coloured, gtzan_songs


def _dev_set(root):
    (root / "audio").mkdir(parents=True)
    (root / "beats").mkdir()
    for k in range(10):
        stem = f"rock.0000{k}"
        sf.write(root / "audio" / f"{stem}.wav", np.zeros(SR, dtype=np.float32), SR)
        (root / "beats" / f"{stem}.beats").write_text("0.5\t1\n1.0\t2\n")
    return root


def test_only_tuning_files_are_read_and_validate_leaves_one_out(tmp_path):
    dev = _dev_set(tmp_path / "dev")
    out = tmp_path / "out"
    out.mkdir()
    assert gtzan_songs(dev, out) == 4
    assert sorted(p.name for p in out.iterdir()) == [f"gtzan_rock.0000{k}.npz" for k in (1, 2, 3, 4)]
    out2 = tmp_path / "out2"
    out2.mkdir()
    assert gtzan_songs(dev, out2, validate="00004") == 3
    assert not (out2 / "gtzan_rock.00004.npz").exists()
    half = tmp_path / "half"  # a cross-validation half: two numbers left out
    half.mkdir()
    assert gtzan_songs(dev, half, validate="00003,00004") == 2
    assert sorted(p.name for p in half.iterdir()) == ["gtzan_rock.00001.npz", "gtzan_rock.00002.npz"]
    d = np.load(out / "gtzan_rock.00001.npz")
    assert list(d["downbeats"]) == [0.5] and list(d["beats"]) == [0.5, 1.0]


def test_colouring_keeps_length_and_onsets():
    rng = np.random.default_rng(0)
    y = np.zeros(2 * SR, dtype=np.float32)
    y[SR : SR + 200] = np.sin(np.arange(200) / 3.0)
    for seed in range(5):
        z = coloured(y, np.random.default_rng(seed))
        assert z.shape == y.shape and z.dtype == np.float32
        assert 0.29 <= np.abs(z).max() <= 0.951
        assert abs(int(np.argmax(np.abs(z))) - SR) < 400  # the click stays where it was
    assert not np.allclose(coloured(y, rng), coloured(y, np.random.default_rng(9)))

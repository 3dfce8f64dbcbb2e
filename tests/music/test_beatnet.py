"""The beat network at analysis time: the numpy forward is the torch model's, the weights ship and load."""

from __future__ import annotations

import numpy as np
import pytest

from storyreel.music import beatnet


def test_numpy_forward_matches_the_torch_model():
    torch = pytest.importorskip("torch")
    from storyreel.music.beatnet_train import build_net

    net = build_net(channels=8, blocks=4).eval()
    x = np.random.default_rng(0).normal(size=(2 * beatnet.N_MELS, 300)).astype(np.float32)
    with torch.no_grad():
        want = torch.sigmoid(net(torch.from_numpy(x)[None]))[0].numpy()
    weights = {k: v.numpy() for k, v in net.state_dict().items()}
    assert np.allclose(beatnet.forward(weights, x), want, atol=1e-5)


def test_the_shipped_weights_load_and_give_probabilities():
    weights = beatnet.load_weights()
    assert beatnet.WEIGHTS_PATH.stat().st_size < 2_000_000
    y = np.zeros(3 * beatnet.SR, dtype=np.float32)
    y[:: beatnet.SR // 2] = 1.0  # clicks at 120 BPM
    act = beatnet.forward(weights, beatnet.spectrogram_input(y))
    assert act.shape == (2, int(3 * beatnet.SR / beatnet.HOP) + 1)
    assert np.all((act >= 0) & (act <= 1))


def test_frames_sit_at_hop_times():
    """Frame k is centred at k * HOP / SR: a click at 1 s lights frame round(1 s * fps) of the flux."""
    y = np.zeros(2 * beatnet.SR, dtype=np.float32)
    y[beatnet.SR] = 1.0
    x = beatnet.spectrogram_input(y)
    diff = x[beatnet.N_MELS :].sum(axis=0)
    assert abs(int(np.argmax(diff)) - round(beatnet.fps())) <= 2

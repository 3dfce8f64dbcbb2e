"""Fixtures for the backend tests: tiny diffusers pipelines saved once per session, no hub."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def tiny_pipelines(tmp_path_factory):
    """{name: directory} of tiny random Wan / LTX / CogVideoX pipelines saved with save_pretrained."""
    import torch

    import tiny_pipelines as tp

    torch.set_num_threads(1)  # the suite shares the machine; tiny models gain nothing from threads
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return tp.save_all(tmp_path_factory.mktemp("tiny-pipelines"))

"""C2PA Content Credentials: the signed MP4 declares itself AI-generated; credentials are checked up front."""

import pytest

from fakes import c2pa_credentials as creds  # noqa: F401 - a fixture
from fakes import world_frames
from storyreel.errors import StoryreelError
from storyreel.output.encode import encode, probe


def test_c2pa_manifest_declares_ai_generated_and_reads_back(tmp_path, creds):
    from storyreel.provenance.c2pa_sign import read_c2pa, sign_mp4

    (cert, ca) = creds
    video = encode(iter(world_frames(4, 4, (160, 96))), 4, 24, (160, 96), None, tmp_path / "v.mp4")
    assert read_c2pa(video) is None
    sign_mp4(video, cert, "test", {"models": ["builtin"], "storyboard_hash": "abc"})
    c = read_c2pa(video)
    assert c["ai_generated"] and c["digital_source_type"].endswith("trainedAlgorithmicMedia")
    assert c["validation_state"] == "Valid" and "signingCredential.untrusted" in c["status"]
    assert c["storyreel"]["storyboard_hash"] == "abc" and c["claim_generator"].startswith("storyreel")
    assert read_c2pa(video, trust_anchors=ca)["validation_state"] == "Trusted"
    assert probe(video)["frames"] == 4  # still a playable MP4


def test_c2pa_credentials_are_checked_up_front(tmp_path, creds, monkeypatch):
    from storyreel.provenance.c2pa_sign import load_signer, resolve_credentials

    (cert, _) = creds
    monkeypatch.delenv("STORYREEL_C2PA_CERT", raising=False)
    monkeypatch.delenv("STORYREEL_C2PA_KEY", raising=False)
    assert resolve_credentials() is None
    with pytest.raises(StoryreelError, match="--c2pa-key"):
        resolve_credentials(cert.cert, None)
    (tmp_path / "bad.pem").write_text("nonsense")
    with pytest.raises(StoryreelError, match="PEM"):
        load_signer(resolve_credentials(tmp_path / "bad.pem", cert.key))
    monkeypatch.setenv("STORYREEL_C2PA_CERT", str(cert.cert))
    monkeypatch.setenv("STORYREEL_C2PA_KEY", str(cert.key))
    assert resolve_credentials() == cert

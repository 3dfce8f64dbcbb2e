"""Tiny random diffusers pipelines (Wan, LTX-Video, CogVideoX) built and saved without the Hugging Face hub.

diffusers' own tests fetch a tiny T5 from the hub; these do not. The tokenizer
is built locally with the `tokenizers` library (a Unigram model wrapped in
T5TokenizerFast: a WordLevel model wrapped that way fails to reload under
transformers 5), the text encoder is a `T5EncoderModel` from a tiny
`T5Config`, and the transformer and VAE configs follow the ones in diffusers'
tests, shrunk further where that stays valid. Every pipeline is saved with
`save_pretrained` so storyreel loads it through its real loading path.

Grids of the tiny models (from their configs, as for the real ones):
  wan       VAE 8x spatial, 4x temporal, patch 2 -> sizes % 16, 4k+1 frames
  ltx       VAE 8x spatial (patch 1 x 2^3), 8x temporal -> sizes % 32, 8k+1 frames
  cogvideox VAE 8x spatial, 4x temporal, patch 2 -> sizes % 16, 4k+1 frames
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

TEXT_DIM = 32  # d_model of the tiny T5 = text_dim / caption_channels / text_embed_dim of the transformers


def tiny_tokenizer():
    """A T5 tokenizer over a small Unigram vocabulary: characters, a few words, <pad>=0, </s>=1, <unk>=2."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from tokenizers.processors import TemplateProcessing
    from transformers import T5TokenizerFast

    words = ["▁a", "▁the", "▁over", "▁in", "▁and", "▁sky", "▁star", "▁city", "▁night", "▁sea"]
    chars = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-(){}")
    vocab = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    vocab += [(w, -3.0) for w in words] + [(c, -5.0) for c in chars] + [("▁" + c, -5.5) for c in chars]
    tok = Tokenizer(models.Unigram(vocab, unk_id=2, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    tok.post_processor = TemplateProcessing(single="$A </s>", pair="$A </s> $B </s>", special_tokens=[("</s>", 1)])
    return T5TokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="</s>", unk_token="<unk>", extra_ids=0)


def tiny_text_encoder(vocab_size: int):
    from transformers import T5Config, T5EncoderModel

    cfg = T5Config(vocab_size=vocab_size, d_model=TEXT_DIM, d_kv=8, d_ff=37, num_layers=1, num_heads=4,
                   relative_attention_num_buckets=8, relative_attention_max_distance=16, dropout_rate=0.0,
                   pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)
    return T5EncoderModel(cfg).eval()


def _text():
    tok = tiny_tokenizer()
    return tok, tiny_text_encoder(len(tok))


def wan(i2v: str | None = None, shared: dict | None = None):
    """Wan: i2v=None (2.1 T2V), "clip" (2.1 I2V: CLIP image encoder, 36 input channels), "expand" (2.2 TI2V).

    shared: tokenizer / text_encoder / vae to reuse (as the real T2V and I2V repos hold the same ones).
    """
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanImageToVideoPipeline, WanPipeline, WanTransformer3DModel

    tok, enc = (shared["tokenizer"], shared["text_encoder"]) if shared else _text()
    vae = shared["vae"] if shared else AutoencoderKLWan(
        base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1, temperal_downsample=[False, True, True])
    extra = {}
    if i2v == "clip":
        from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModel

        extra["image_encoder"] = CLIPVisionModel(CLIPVisionConfig(
            hidden_size=4, projection_dim=4, num_hidden_layers=2, num_attention_heads=2, image_size=32,
            intermediate_size=16, patch_size=1)).eval()
        extra["image_processor"] = CLIPImageProcessor(crop_size=32, size=32)
    transformer = WanTransformer3DModel(
        patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
        in_channels=36 if i2v == "clip" else 16, out_channels=16, text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32,
        num_layers=2, cross_attn_norm=True, qk_norm="rms_norm_across_heads", rope_max_seq_len=32,
        image_dim=4 if i2v == "clip" else None,
    )
    sched = FlowMatchEulerDiscreteScheduler(shift=7.0)
    if i2v == "clip":
        return WanImageToVideoPipeline(tokenizer=tok, text_encoder=enc, vae=vae, scheduler=sched, transformer=transformer, **extra)
    return WanPipeline(tokenizer=tok, text_encoder=enc, vae=vae, scheduler=sched, transformer=transformer,
                       expand_timesteps=i2v == "expand")


def ltx():
    from diffusers import AutoencoderKLLTXVideo, FlowMatchEulerDiscreteScheduler, LTXPipeline, LTXVideoTransformer3DModel

    tok, enc = _text()
    transformer = LTXVideoTransformer3DModel(
        in_channels=8, out_channels=8, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, num_layers=1, caption_channels=TEXT_DIM,
    )
    vae = AutoencoderKLLTXVideo(
        in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
        decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
        decoder_layers_per_block=(1, 1, 1, 1, 1), spatio_temporal_scaling=(True, True, True, False),
        decoder_spatio_temporal_scaling=(True, True, True, False), decoder_inject_noise=(False,) * 5,
        upsample_residual=(False,) * 4, upsample_factor=(1,) * 4, timestep_conditioning=False,
        patch_size=1, patch_size_t=1, encoder_causal=True, decoder_causal=False,
    )
    return LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=enc, tokenizer=tok, transformer=transformer)


def cogvideox(i2v: bool = False, shared: dict | None = None):
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXImageToVideoPipeline, CogVideoXPipeline, CogVideoXTransformer3DModel

    tok, enc = (shared["tokenizer"], shared["text_encoder"]) if shared else _text()
    transformer = CogVideoXTransformer3DModel(
        num_attention_heads=2, attention_head_dim=16, in_channels=8 if i2v else 4, out_channels=4, time_embed_dim=2,
        text_embed_dim=TEXT_DIM, num_layers=1, sample_width=4, sample_height=4, sample_frames=9, patch_size=2,
        temporal_compression_ratio=4, max_text_seq_length=16, use_rotary_positional_embeddings=i2v,
    )
    vae = shared["vae"] if shared else AutoencoderKLCogVideoX(
        in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
        up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8), latent_channels=4,
        layers_per_block=1, norm_num_groups=2, temporal_compression_ratio=4,
    )
    cls = CogVideoXImageToVideoPipeline if i2v else CogVideoXPipeline
    return cls(tokenizer=tok, text_encoder=enc, vae=vae, transformer=transformer, scheduler=CogVideoXDDIMScheduler())


def _shared(pipe) -> dict:
    return {"tokenizer": pipe.tokenizer, "text_encoder": pipe.text_encoder, "vae": pipe.vae}


def save_all(root: Path, seed: int = 0) -> dict[str, Path]:
    """Build and save_pretrained every tiny pipeline under root/<name>; returns {name: directory}.

    The image-to-video pipelines reuse their text-to-video sibling's tokenizer,
    text encoder and VAE, as the real repos do (so the adapter loads them once).
    """
    torch.manual_seed(seed)
    wan_t2v, cog_t2v = wan(None), cogvideox(False)
    pipes = {
        "wan-t2v": wan_t2v,
        "wan-i2v": wan("clip", _shared(wan_t2v)),
        "wan-ti2v": wan("expand"),
        "ltx": ltx(),
        "cogvideox-t2v": cog_t2v,
        "cogvideox-i2v": cogvideox(True, _shared(cog_t2v)),
    }
    out = {}
    for name, pipe in pipes.items():
        path = Path(root) / name
        pipe.save_pretrained(path, safe_serialization=True)
        out[name] = path
    return out


def model_index(path: Path) -> dict:
    return json.loads((Path(path) / "model_index.json").read_text())



def build_for_session(tmp_path_factory) -> dict[str, Path]:
    """What the `tiny_pipelines` session fixture returns: every tiny pipeline, saved once per test session.

    The fixture itself is declared in the test module (a tests/models/conftest.py
    would be a second module named `conftest`, shadowing tests/conftest.py for
    the `from conftest import ...` the other tests use).
    """
    torch.set_num_threads(1)  # the suite shares the machine; tiny models gain nothing from threads
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        return save_all(tmp_path_factory.mktemp("tiny-pipelines"))

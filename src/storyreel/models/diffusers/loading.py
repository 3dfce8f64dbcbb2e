"""Loading a model's pipelines, lazily, on its device with its dtype and memory options.

Device cuda if there is one, else cpu; dtype bf16 on a GPU (fp16 for
CogVideoX-2B, as its authors run it), fp32 on CPU; optional
model/group/sequential CPU offload (GPU only), VAE tiling and a
FirstBlockCache. Pipelines for other modes share the loaded components
(`from_pipe`); a separate image-to-video repo shares the text encoder and VAE
when their files are identical.

torch and diffusers are imported inside the functions that need them: they
take seconds to import, and naming, planning and checking a model need
neither.
"""

from __future__ import annotations

import importlib.util
import sys
import warnings
from pathlib import Path

import numpy as np

from ...errors import StoryreelError
from .options import DiffusersOptions
from .weights import hub_cache_dir, locate_weights, missing_weights_message, same_component

SHAREABLE = ("tokenizer", "text_encoder", "vae")  # components an image-to-video repo may share with the main one


def resolve_device(options: DiffusersOptions) -> str:
    """The device the options name, else cuda when there is one, else cpu."""
    if options.device:
        return options.device
    import torch  # deferred: see the module docstring

    return "cuda" if torch.cuda.is_available() else "cpu"


def torch_dtype(name: str):
    import torch  # deferred: see the module docstring

    return {"bf16": torch.bfloat16, "fp16": torch.float16, "fp32": torch.float32}[name]


def require_diffusers(model: str) -> None:
    """A StoryreelError naming the extra to install unless diffusers is importable (it is not in a plain install)."""
    if importlib.util.find_spec("diffusers") is None:
        raise StoryreelError(f"model {model} runs through diffusers, which is not installed: "
                             f"pip install 'storyreel[gpu]'", field="model")


def to_pil(frames: np.ndarray) -> list:
    """(T, H, W, 3) uint8 -> PIL images, as diffusers pipelines take them."""
    from PIL import Image  # deferred: only conditioning requests need it

    return [Image.fromarray(np.ascontiguousarray(f)) for f in frames]


class Pipelines:
    """The loaded pipelines of one model (a DiffusersModel), by role: t2v, i2v, v2v, condition."""

    def __init__(self, model) -> None:
        self.model = model
        self._pipes: dict[str, object] = {}
        self._offloaded: set[int] = set()
        self._hooked: object | None = None  # the pipeline whose model-offload hooks are live
        self.shared_with_i2v: list[str] = []  # components the image-to-video pipeline reuses

    def dtype_name(self) -> str:
        m = self.model
        if m.options.dtype != "auto":
            return m.options.dtype
        return {"cpu": "fp32", "mps": "fp16"}.get(m.device, m.spec.gpu_dtype)

    def local(self, ref: str, role: str) -> Path:
        """The local directory of `ref`, downloading it first where that is allowed (the hub shows progress)."""
        src = locate_weights(ref, self.model.name, role)
        if src.path is not None:
            return src.path
        from diffusers import DiffusionPipeline  # deferred: see the module docstring

        try:
            return Path(DiffusionPipeline.download(ref, cache_dir=str(hub_cache_dir())))
        except Exception as e:
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoryreelError(f"downloading {ref} failed ({first}); "
                                 f"{missing_weights_message(self.model.name, ref, role)}") from None

    def load(self, ref: str, cls_name: str, role: str, **shared):
        """Pipeline class `cls_name` from `ref`, with the family's loading details and `shared` components."""
        import diffusers  # deferred: see the module docstring

        path = self.local(ref, role)
        cls = getattr(diffusers, cls_name)
        dtype = torch_dtype(self.dtype_name())
        try:
            with warnings.catch_warnings():
                warnings.filterwarnings("ignore", message=".*torch_dtype.*deprecated", category=FutureWarning)
                shared = self.model.components_for(path, dtype, shared)
                pipe = cls.from_pretrained(str(path), torch_dtype=dtype, local_files_only=True, **shared)
        except StoryreelError:
            raise
        except Exception as e:  # a broken directory, an incompatible diffusers, a failed download
            first = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
            raise StoryreelError(f"could not load {ref} as {cls_name}: {first}") from None
        self.model.after_load(pipe)
        return pipe

    def get(self, role: str):
        """The pipeline for `role`, loaded on first use."""
        if role in self._pipes:
            return self._pipes[role]
        require_diffusers(self.model.name)
        import diffusers  # deferred: see the module docstring

        m = self.model
        classes = m.pipeline_classes
        if role == "t2v":
            m.check_available()
            pipe = self.load(m.source, classes["t2v"], "the weights")
        elif role == "i2v" and not m.i2v_shared:
            base = self.get("t2v")
            role_words = "for continuity the image-to-video weights"
            main, other = self.local(m.source, "the weights"), self.local(m.i2v_ref, role_words)
            shared = {k: getattr(base, k) for k in SHAREABLE
                      if getattr(base, k, None) is not None and same_component(main / k, other / k)}
            pipe = self.load(m.i2v_ref, classes["i2v"], role_words, **shared)
            self.shared_with_i2v = sorted(shared)
        else:
            pipe = getattr(diffusers, classes[role]).from_pipe(self.get("t2v"))
        self._pipes[role] = self._prepare(pipe)
        return self._pipes[role]

    def _prepare(self, pipe):
        """Device placement, offload, VAE tiling and the block cache, once per pipeline."""
        pipe.set_progress_bar_config(disable=True)
        _ftfy_passthrough(pipe)
        opts = self.model.options
        if opts.vae_tiling and getattr(pipe, "vae", None) is not None and hasattr(pipe.vae, "enable_tiling"):
            pipe.vae.enable_tiling()
        if opts.cache == "fbc":
            from diffusers.hooks import FirstBlockCacheConfig  # deferred: see the module docstring

            for comp in ("transformer", "transformer_2"):
                tr = getattr(pipe, comp, None)
                if tr is not None and not getattr(tr, "_storyreel_cache", False):
                    tr.enable_cache(FirstBlockCacheConfig(threshold=opts.cache_threshold))
                    tr._storyreel_cache = True
        if opts.offload == "none":
            self._place(pipe)
        elif opts.offload == "group":
            self._group_offload(pipe)
        return pipe

    def _place(self, pipe) -> None:
        """Every component on the model's device (shared components are moved once)."""
        import torch  # deferred: see the module docstring

        target = torch.device(self.model.device)
        for comp in pipe.components.values():
            if isinstance(comp, torch.nn.Module):
                param = next(comp.parameters(), None)
                if param is not None and (param.device.type, param.device.index or 0) != (target.type, target.index or 0):
                    comp.to(target)

    def _group_offload(self, pipe) -> None:
        """Layer groups streamed to the GPU as they run (each component once)."""
        import torch  # deferred: see the module docstring
        from diffusers.hooks import apply_group_offloading

        kw = dict(onload_device=torch.device(self.model.device), offload_device=torch.device("cpu"),
                  offload_type="leaf_level", use_stream=True)
        for _, comp in pipe.components.items():
            if isinstance(comp, torch.nn.Module) and id(comp) not in self._offloaded:
                if hasattr(comp, "enable_group_offload"):
                    comp.enable_group_offload(**kw)
                else:
                    apply_group_offloading(module=comp, **kw)
                self._offloaded.add(id(comp))

    def activate(self, pipe) -> None:
        """Model/sequential offload hooks belong to one pipeline: move them to the one about to run."""
        offload = self.model.options.offload
        if offload in {"model", "sequential"} and self._hooked is not pipe:
            if self._hooked is not None:
                self._hooked.remove_all_hooks()
            if offload == "model":
                pipe.enable_model_cpu_offload(device=self.model.device)
            else:
                pipe.enable_sequential_cpu_offload(device=self.model.device)
            self._hooked = pipe


class _NoFtfy:
    """Stands in for ftfy where diffusers calls it unconditionally (Wan I2V / V2V) and it is not installed:
    ftfy only repairs mis-decoded text (mojibake); prompts typed as text pass through unchanged."""

    @staticmethod
    def fix_text(text: str) -> str:
        return text


def _ftfy_passthrough(pipe) -> None:
    mod = sys.modules.get(type(pipe).__module__)
    if mod is not None and "ftfy" not in vars(mod):
        try:
            import ftfy  # noqa: F401  (optional: diffusers would have imported it when installed)

            mod.ftfy = ftfy
        except ImportError:
            mod.ftfy = _NoFtfy

"""Benchmark: open-weight models through storyreel on a GPU, against calling diffusers directly.

Renders the shots of a short storyboard (three shots on the demo song) with
`wan2.1-t2v-1.3b`, `ltx-video-0.9.8-distilled` and `ltx2` through storyreel's real shot generation
(render.takes.run_in_order: grid sizes, chaining, continuity, the take cache), and
records per shot the seconds and the peak GPU memory. Then it replays exactly
the same pipeline calls (same pipeline objects, arguments and seeds) straight
into diffusers, and prints storyreel's overhead: storyreel time / diffusers
time - 1, target within 5 %. Both paths run in this process on this GPU, after
one warm-up generation that neither is charged for; with --repeats > 1 each
path's best time counts.

Needs a CUDA GPU and the weights in the Hugging Face cache (or network):
    hf download Wan-AI/Wan2.1-T2V-1.3B-Diffusers
    hf download Lightricks/LTX-Video-0.9.8-13B-distilled; hf download Lightricks/LTX-2
Without a GPU it says so and exits with status 2, measuring nothing.

    .venv/bin/python bench/gpu_diffusers.py [--models wan2.1-t2v-1.3b ltx-video-0.9.8-distilled ltx2] [--steps 20]
        [--shots 3] [--repeats 1] [--offload none|model|group] [--cache none|fbc] [--json out.json]
"""

from __future__ import annotations

import argparse
import gc
import json
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

STORYBOARD = """\
title: GPU bench
song: demo
output: {size: 1280x720, fps: 24}
style: "cinematic, 35mm film"
camera: {move: zoom_in, amount: 0.15, continuous: true}
transition: cut
shots:
  - prompt: "a lighthouse on a cliff at dusk, waves below"
    length: 2 bars
  - prompt: "the lighthouse beam sweeping over a dark sea"
    length: 4 bars
  - prompt: "dawn over the same sea, gulls in the wind"
    length: 2 bars
  - prompt: "the sea at noon"   # runs to the end of the song; not rendered (--shots 3)
"""

TARGET_OVERHEAD = 0.05


def _wxh(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(h), int(w)  # (height, width), as DiffusersOptions.size


def fail(msg: str, code: int = 2) -> None:
    print(f"gpu_diffusers: {msg}", file=sys.stderr)
    sys.exit(code)


def plan_shots(model_name: str, n_shots: int, workdir: Path):
    from dataclasses import replace

    from storyreel.pipeline import RenderOptions, load_and_plan

    sb = workdir / "storyboard.yaml"
    sb.write_text(STORYBOARD)
    _, music, plan = load_and_plan(sb, RenderOptions(model=model_name))  # planned for what the model can do
    shots = plan.shots[:n_shots]
    return replace(plan, shots=shots, frames=shots[-1].end_frame, duration=shots[-1].end), music


def bench_model(name: str, args, workdir: Path) -> dict:
    import torch

    from storyreel.models.base import GenerationRequest
    from storyreel.models.diffusers import DiffusersOptions, open_model
    from storyreel.render.cache import TakeCache
    from storyreel.render.takes import ShotSettings, native_size, run_in_order

    options = DiffusersOptions(steps=args.steps, offload=args.offload, cache=args.cache, vae_tiling=args.vae_tiling,
                               size=args.gen_size, frames=args.gen_frames)
    model = open_model(name, options)
    model.check_available()  # a missing download is one clear line, before any work
    plan, music = plan_shots(name, args.shots, workdir)  # no i2v: planned with zoom-throughs, as a render does
    h, w = native_size(plan, model)
    cuda = torch.cuda.is_available()
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    peak = (lambda: torch.cuda.max_memory_allocated() / 2**30) if cuda else (lambda: float("nan"))
    reset_peak = torch.cuda.reset_peak_memory_stats if cuda else (lambda: None)

    # storyreel's calls, recorded so the direct path can replay the same work
    calls: list[tuple[int, object, dict]] = []  # (shot, pipeline, kwargs)
    gen_info: list[dict] = []
    current_shot = [0]
    generate, pipeline_call = model.generate, model.pipeline_call

    def recording_call(req, progress=None):  # the pipeline and arguments each generation calls
        pipe, kw, used, steps = pipeline_call(req, progress)
        calls.append((current_shot[0], pipe, {**{k: v for k, v in kw.items() if k != "callback_on_step_end"},
                                              "seed": req.seed}))
        return pipe, kw, used, steps

    def recording(req, progress=None):
        clip = generate(req, progress=progress)
        gen_info.append(clip.info)
        return clip

    model.generate, model.pipeline_call = recording, recording_call

    # warm-up: load weights and make every pipeline the shots will use, allocator, kernels (charged to neither path)
    t = time.perf_counter()
    warm = GenerationRequest("warm-up", seed=1, height=h, width=w, frames=model.native.valid_frames(9), steps=2)
    first = model.generate(warm).frames
    if "i2v" in model.capabilities:
        model.generate(replace(warm, first_frames=first[-1:]))
        model.generate(replace(warm, first_frames=first[-4:]))  # extension (LTX: the condition pipeline)
    load_s = time.perf_counter() - t
    calls.clear(), gen_info.clear()

    def run_storyreel():
        calls.clear(), gen_info.clear()
        shot_s, shot_mem = [], []
        cache = TakeCache(Path(tempfile.mkdtemp(dir=workdir)))  # empty: every shot generated
        starts = [time.perf_counter()]

        def on_shot(i, rec):
            sync()
            shot_s.append(time.perf_counter() - starts[-1])
            shot_mem.append(peak())
            current_shot[0] = i + 1
            reset_peak()
            starts.append(time.perf_counter())

        current_shot[0] = 0
        reset_peak()
        sync()
        t0 = time.perf_counter()
        results = run_in_order(plan, model, cache, ShotSettings(music=music), on_shot)
        sync()
        return time.perf_counter() - t0, shot_s, shot_mem, results

    def run_direct():
        per_shot: dict[int, float] = {}
        sync()
        t0 = time.perf_counter()
        for shot, pipe, kw in calls:
            kw = dict(kw)
            seed = kw.pop("seed")
            kw["generator"] = torch.Generator("cpu").manual_seed(int(seed) & 0x7FFFFFFFFFFFFFFF)
            t = time.perf_counter()
            with torch.inference_mode():
                pipe(**kw)
            sync()
            per_shot[shot] = per_shot.get(shot, 0.0) + time.perf_counter() - t
        return time.perf_counter() - t0, per_shot

    best_sr, best_direct = None, None
    for _ in range(args.repeats):
        sr = run_storyreel()
        d = run_direct()  # the calls storyreel just made
        best_sr = sr if best_sr is None or sr[0] < best_sr[0] else best_sr
        best_direct = d if best_direct is None or d[0] < best_direct[0] else best_direct
    total_sr, shot_s, shot_mem, results = best_sr
    total_direct, direct_shot = best_direct
    overhead = total_sr / total_direct - 1.0
    row = {
        "model": name, "repo": model.source, "device": torch.cuda.get_device_name(0) if cuda else "cpu",
        "dtype": model.pipelines.dtype_name(), "offload": args.offload, "cache": args.cache, "steps": args.steps,
        "size": f"{w}x{h}", "fps": model.native.fps, "frames_per_generation": model.native.frames,
        "load_and_warmup_s": round(load_s, 1),
        "shots": [
            {"shot": i + 1, "native_frames": int(len(r.clip.frames)), "generations": r.clip.info.get("generations", 1),
             "storyreel_s": round(shot_s[i], 2), "diffusers_s": round(direct_shot.get(i, float("nan")), 2),
             "peak_gpu_gib": round(shot_mem[i], 2)}
            for i, r in enumerate(results)
        ],
        "storyreel_s": round(total_sr, 2), "diffusers_s": round(total_direct, 2),
        "overhead": round(overhead, 4), "target": TARGET_OVERHEAD, "ok": overhead <= TARGET_OVERHEAD,
    }
    model.generate, model.pipeline_call = generate, pipeline_call
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--models", nargs="+", default=["wan2.1-t2v-1.3b", "ltx-video-0.9.8-distilled", "ltx2"])
    ap.add_argument("--steps", type=int, default=20, help="sampler steps per generation (both paths)")
    ap.add_argument("--shots", type=int, default=3)
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--offload", default="none", choices=["none", "model", "group", "sequential"])
    ap.add_argument("--cache", default="none", choices=["none", "fbc"])
    ap.add_argument("--vae-tiling", action="store_true")
    ap.add_argument("--json", type=Path, help="also write the results here")
    ap.add_argument("--gen-size", type=_wxh, default=None, help="WxH per generation instead of the model's native size")
    ap.add_argument("--gen-frames", type=int, default=None, help="frames per generation instead of the native count")
    ap.add_argument("--cpu-smoke", action="store_true", help=argparse.SUPPRESS)  # check this script's logic on CPU (tiny pipelines)
    args = ap.parse_args(argv)

    import torch

    if not torch.cuda.is_available() and not args.cpu_smoke:
        fail("needs a CUDA GPU and this machine has none (torch.cuda.is_available() is False); "
             "nothing was measured. The offline adapter tests (tests/models/diffusers/test_diffusers.py) run without one.")
    from storyreel.errors import StoryreelError
    from storyreel.models import registry

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name in args.models:
            try:
                row = bench_model(name, args, Path(tmp))
            except StoryreelError as e:
                fail(str(e))
            rows.append(row)
            print(f"\n{name} ({row['repo']}) on {row['device']}, {row['dtype']}, {row['size']} @ {row['fps']:g} fps, "
                  f"{row['frames_per_generation']} frames/generation, {row['steps']} steps; "
                  f"load + warm-up {row['load_and_warmup_s']} s")
            print(f"  {'shot':>4} {'frames':>6} {'gens':>4} {'storyreel s':>11} {'diffusers s':>11} {'peak GiB':>8}")
            for s in row["shots"]:
                print(f"  {s['shot']:>4} {s['native_frames']:>6} {s['generations']:>4} {s['storyreel_s']:>11.2f} "
                      f"{s['diffusers_s']:>11.2f} {s['peak_gpu_gib']:>8.2f}")
            print(f"  total: storyreel {row['storyreel_s']:.2f} s, diffusers {row['diffusers_s']:.2f} s, "
                  f"ratio {row['storyreel_s'] / row['diffusers_s']:.3f} (overhead {100 * row['overhead']:+.1f} %, "
                  f"target <= {100 * TARGET_OVERHEAD:.0f} %) {'OK' if row['ok'] else 'OVER TARGET'}")
            registry.cache_clear()
            gc.collect()
            if torch.cuda.is_available():
                torch.cuda.empty_cache()
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())

"""Check the evaluation probe against a person: 20 held-out clips of the built-in model, numbered on a sheet, with
what the probe reads of each, so the clips can be labelled by eye and the two compared.

    .venv/bin/python bench/probe_vs_eye.py [--out docs/probe-vs-eye.png] [--labels docs/probe-vs-eye.json] [--n 20]

Without --labels it writes the sheet and prints the probe's readings (label the sheet by eye into a JSON file:
{"1": {"colour": "red", "shape": "star", "motion": "right", "setting": "night sky"}, ...}; "?" where one cannot
tell). With --labels it also prints, per attribute, how often the probe agrees with the person and how often
each of them agrees with the caption.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from storyreel.eval import evaluate as ev
from storyreel.eval import probe as probe_mod
from storyreel.models.base import GenerationRequest
from storyreel.models.builtin.model import BuiltinModel

ATTRS = ("colour", "shape", "motion", "setting")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default="docs/probe-vs-eye.png")
    ap.add_argument("--labels", default=None)
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--weights", default=None, help="a weights folder (default: the shipped weights)")
    args = ap.parse_args()
    model = BuiltinModel(Path(args.weights)) if args.weights else BuiltinModel()
    pr = probe_mod.load_probe()
    items = ev.heldout_set(args.n, 0, seed=77)  # a different draw from the eval's own set
    font = ImageFont.load_default()
    rows, readings = [], {}
    for i, (scene, text) in enumerate(items, 1):
        clip = model.generate(GenerationRequest(prompt=text, seed=i, height=48, width=80, frames=16))
        rd = ev.read(pr, clip.frames, 1)
        colour, shape, motion = rd.objects[0]
        t = scene.things[0]
        readings[str(i)] = {"caption": text, "truth": {"colour": t.colour, "shape": t.shape, "motion": t.motion,
                                                      "setting": scene.setting},
                            "probe": {"colour": colour, "shape": shape, "motion": motion, "setting": rd.setting}}
        strip = np.concatenate([clip.frames[k] for k in (0, 5, 10, 15)], 1)  # (48, 320, 3)
        img = Image.fromarray(strip).resize((strip.shape[1] * 2, strip.shape[0] * 2), Image.NEAREST)
        row = Image.new("RGB", (img.width, img.height + 16), "white")
        row.paste(img, (0, 16))
        ImageDraw.Draw(row).text((4, 2), f"#{i}  (frames 0, 5, 10, 15)", fill="black", font=font)
        rows.append(row)
    sheet = Image.new("RGB", (rows[0].width * 2, sum(r.height for r in rows[::2])), "white")
    for k, r in enumerate(rows):
        sheet.paste(r, ((k % 2) * r.width, sum(x.height for x in rows[: k - k % 2 : 2])))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    sheet.quantize(128).save(args.out, optimize=True)  # a small PNG for docs/
    print(f"wrote {args.out}")
    print(json.dumps(readings, indent=1))
    if args.labels:
        eye = json.loads(Path(args.labels).read_text())
        eye = eye.get("labels", eye)  # docs/probe-vs-eye.json keeps its labels under "labels"
        for a in ATTRS:
            pairs = [(readings[k]["probe"][a], eye[k][a], readings[k]["truth"][a]) for k in readings if k in eye]
            agree = np.mean([p == e for p, e, _ in pairs])
            print(f"{a:8s} probe=eye {agree:.0%}   eye=caption {np.mean([e == t for _, e, t in pairs]):.0%}   "
                  f"probe=caption {np.mean([p == t for p, _, t in pairs]):.0%}   (n={len(pairs)})")


if __name__ == "__main__":
    main()

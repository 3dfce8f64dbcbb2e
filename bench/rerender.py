"""Benchmark: what the take cache saves. Full render, re-render after changing one shot, resume after a kill.

    .venv/bin/python bench/rerender.py [--storyboard examples/hardest-part/storyboard.yaml] [--executor local]

Every render is `storyreel render` as a user runs it (a fresh process, timed
from start to exit), in a fresh take cache unless said otherwise:

1. full: the storyboard from nothing (the song analysis is warmed first by an
   untimed `storyreel plan`, so every run below pays the same for it).
2. re-render after changing the LAST shot's prompt (a copy of the storyboard
   beside the original, so relative paths still resolve), in the full
   render's cache: only that shot is generated again; the video is
   re-assembled and re-encoded. Printed as a ratio of the full render, and
   the ratio of everything but the unavoidable re-assembly/encode/export
   (the target: <= 5%).
3. the same for a shot in the MIDDLE of the song. With a continuous camera
   (the demo's one forward move) every later shot starts from the previous
   one's last frame, so changing shot k regenerates shots k..end of its
   chain: about half the song here. That is the price of an unbroken camera
   move, reported as it is.
4. resume: a fresh render killed (SIGKILL) once half its takes are in the
   cache, then run again: the time of the resumed run, and its ratio of the
   full render (~half, plus start-up and the encode).

Runs use the machine as it is; compare ratios, not seconds, between machines.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

COLOURS = ["red", "orange", "yellow", "green", "blue", "purple", "pink", "white"]


def cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "storyreel.cli", *args]


def run(args: list[str], env: dict) -> tuple[float, str]:
    """(wall seconds, stderr) of one CLI run; exits on failure."""
    t = time.perf_counter()
    proc = subprocess.run(args, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode != 0:
        sys.exit(f"failed: {' '.join(args)}\n{proc.stderr[-2000:]}")
    return wall, " ".join(proc.stderr.split())


def parse(report: str) -> dict:
    """Stage seconds and take counts from the render's last line."""
    m = re.search(r"(\d+) takes generated, (\d+) from cache; (.*?); real-time factor", report)
    if not m:
        return {}
    stages = {k: float(v) for k, v in re.findall(r"(\w+) ([\d.]+)s", m[3])}
    return {"generated": int(m[1]), "cached": int(m[2]), "stages": stages}


def shot_entries(doc: dict) -> list[tuple[list | dict, object]]:
    """(container, index) of every written shot, in order (top-level `shots` or each section's)."""
    out = []
    lists = [doc["shots"]] if doc.get("shots") else [s.get("shots", []) for s in doc.get("sections", [])]
    for lst in lists:
        out.extend((lst, i) for i in range(len(lst)))
    return out


def change_prompt(text: str) -> str:
    """A small real edit: the first colour word becomes another colour (else a word is added)."""
    for c in COLOURS:
        if re.search(rf"\b{c}\b", text):
            new = next(n for n in COLOURS[COLOURS.index(c) + 3:] + COLOURS if n not in (c, "orange"))
            return re.sub(rf"\b{c}\b", new, text, count=1)
    return text + " slowly"


def modified_copy(storyboard: Path, which: str) -> tuple[Path, str]:
    """A copy of the storyboard beside it with one shot's prompt changed; (path, 'old -> new')."""
    doc = yaml.safe_load(storyboard.read_text())
    entries = shot_entries(doc)
    lst, i = entries[-1] if which == "last" else entries[len(entries) // 2]
    entry = lst[i]
    old = entry if isinstance(entry, str) else entry["prompt"]
    new = change_prompt(old)
    if isinstance(entry, str):
        lst[i] = new
    else:
        entry["prompt"] = new
    doc.setdefault("title", storyboard.stem)  # keep the title the file name gave
    path = storyboard.with_name(f".bench-rerender-{os.getpid()}-{which}.yaml")
    path.write_text(yaml.safe_dump(doc, sort_keys=False, allow_unicode=True))
    return path, f"{old!r} -> {new!r}"


def takes_in(cache: Path) -> int:
    return sum(1 for _ in cache.glob("*/*.npz"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--storyboard", default="examples/hardest-part/storyboard.yaml")
    ap.add_argument("--executor", default="local", help="local or ray")
    ap.add_argument("--work", default=None, help="folder for caches and videos (default: a temporary one)")
    ap.add_argument("--skip-resume", action="store_true", help="only the re-render measurements")
    args = ap.parse_args()
    storyboard = Path(args.storyboard).resolve()
    env = dict(os.environ)
    work = Path(args.work or tempfile.mkdtemp(prefix="storyreel-rerender-"))
    work.mkdir(parents=True, exist_ok=True)
    ex = ["--executor", args.executor]

    def render(board: Path, name: str, cache: str) -> tuple[float, dict]:
        wall, err = run(cli("render", str(board), "-o", str(work / f"{name}.mp4"), "--cache-dir", str(work / cache), *ex), env)
        return wall, parse(err)

    run(cli("plan", str(storyboard)), env)  # warm the song analysis (and the demo song) for every run
    print(f"storyboard {storyboard}  executor {args.executor}  work {work}")

    full, info = render(storyboard, "full", "cache-full")
    total = info.get("generated", 0)
    stages = info.get("stages", {})
    print(f"\nfull render           {full:8.1f} s   {total} takes generated   stages: "
          + ", ".join(f"{k} {v:.1f}" for k, v in stages.items())
          + f"; process start-up {full - sum(stages.values()):.1f}")
    rows = []
    for which in ("last", "middle"):
        board, what = modified_copy(storyboard, which)
        try:
            import shutil

            shutil.copytree(work / "cache-full", work / f"cache-{which}")
            wall, r = render(board, f"changed-{which}", f"cache-{which}")
        finally:
            board.unlink(missing_ok=True)
        st = r.get("stages", {})
        redo = sum(st.get(k, 0.0) for k in ("assembly", "watermark", "encoding", "export"))
        rows.append((which, what, wall, r.get("generated", 0), redo))
    print()
    for which, what, wall, gen, redo in rows:
        print(f"change the {which} shot: {what}")
        print(f"  re-render           {wall:8.1f} s   {gen} of {total} takes generated   "
              f"ratio {wall / full:6.1%} of the full render")
        print(f"  without re-assembly/encode/export ({redo:.1f} s): {(wall - redo) / full:6.1%} of the full render "
              f"(target <= 5%{'' if which == 'last' else '; a continuous camera regenerates every later shot'})")

    if not args.skip_resume:
        cache = work / "cache-resume"
        proc = subprocess.Popen(cli("render", str(storyboard), "-o", str(work / "resume.mp4"), "--cache-dir", str(cache), *ex),
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t = time.perf_counter()
        while proc.poll() is None and takes_in(cache) < max(1, total // 2):
            time.sleep(0.05)
        killed_after = time.perf_counter() - t
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        had = takes_in(cache)
        wall, r = render(storyboard, "resume", "cache-resume")
        same = (work / "resume.mp4").read_bytes() == (work / "full.mp4").read_bytes()
        print(f"\nkilled at {had}/{total} takes after {killed_after:.1f} s; resumed run {wall:8.1f} s "
              f"({r.get('generated', 0)} generated, {r.get('cached', 0)} from cache), ratio {wall / full:6.1%} of the full "
              f"render; video identical to the uninterrupted one: {same}")


if __name__ == "__main__":
    main()

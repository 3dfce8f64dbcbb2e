"""The trainers' step log: the mean loss and time per step, to the console and to run_dir/log.jsonl."""

from __future__ import annotations

import json
import time
from pathlib import Path


def log_record(run_dir: Path, record: dict) -> None:
    with open(run_dir / "log.jsonl", "a") as f:
        f.write(json.dumps(record) + "\n")


class LossLog:
    """Every `every` steps: the mean loss and time per step, to the console and to run_dir/log.jsonl."""

    def __init__(self, run_dir: Path, stage: str, total: int, start: int, log, every: int) -> None:
        self.run_dir, self.stage, self.total, self.start, self.log, self.every = run_dir, stage, total, start, log, every
        self.t0, self.losses = time.time(), []

    def add(self, step: int, loss: float, note: str = "") -> None:
        self.losses.append(loss)
        if step % self.every:
            return
        mean, rate = sum(self.losses) / len(self.losses), (time.time() - self.t0) / max(1, step - self.start)
        self.losses.clear()
        self.log(f"{self.stage} step {step}/{self.total} loss {mean:.4f}{note} ({rate:.2f}s/step)")
        log_record(self.run_dir, {"stage": self.stage, "step": step, "loss": mean, "time": time.time()})

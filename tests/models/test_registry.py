"""models.registry.prompt_reader: what `plan --reads` and the studio ask of a backend, never raising."""

from __future__ import annotations

from pathlib import Path

from fakes import StillModel, WorldModel, use_backend
from storyreel.models import registry
from storyreel.models.builtin.model import BuiltinModel


def test_a_backend_with_a_planner_gives_its_reading(monkeypatch):
    use_backend(monkeypatch, WorldModel(), name="readsfake")
    read = registry.prompt_reader("readsfake")
    assert read is not None and read("a red star, at night") == "one scene of the world for 'a red star'"


def test_a_backend_that_reads_prompts_as_written_gives_none_without_being_checked(monkeypatch):
    model = StillModel()
    checked = []
    monkeypatch.setattr(model, "check_available", lambda: checked.append(1), raising=False)
    use_backend(monkeypatch, model, name="stillfake")
    assert registry.prompt_reader("stillfake") is None and checked == []  # no check: it may ask the hub


def test_missing_weights_or_an_unknown_name_give_none_not_an_error(monkeypatch, tmp_path):
    use_backend(monkeypatch, BuiltinModel(Path(tmp_path / "no-weights-here")), name="builtin-nowts")
    assert registry.prompt_reader("builtin-nowts") is None
    assert registry.prompt_reader("no-such-model") is None

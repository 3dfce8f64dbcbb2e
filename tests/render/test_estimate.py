"""The estimate before any request: generations as models.chain makes them, billed seconds, the price table."""

import pytest

from fakes import RecordingModel, make_plan
from storyreel.errors import StoryreelError
from storyreel.models.hosted import open_model
from storyreel.render.cache import TakeCache
from storyreel.render.estimate import estimate
from storyreel.render.takes import ShotSettings, run_in_order


def test_generations_match_what_the_chain_actually_makes(tmp_path):
    model = RecordingModel()
    plan = make_plan([96, 24, 48], width=160, height=90)
    est = estimate(plan, model)
    run_in_order(plan, model, TakeCache(tmp_path), ShotSettings())
    assert est.generations == len(model.requests) and est.cost is None
    assert est.seconds == pytest.approx(sum(q.frames for q in model.requests) / model.native.fps)
    assert "runs locally: no charge" in est.line()


def test_a_hosted_model_is_billed_whole_documented_durations_at_the_table_price(tmp_path, monkeypatch):
    monkeypatch.delenv("STORYREEL_PRICES", raising=False)
    plan = make_plan([48, 72], width=1280, height=720)  # 2 s and 3 s of output at 24 fps
    est = estimate(plan, open_model("runway-gen4.5"))
    # 49 and 73 native frames at 24 fps: billed 3 s and 4 s (durations are whole seconds, 2 to 10)
    assert (est.generations, est.seconds) == (2, 7.0)
    assert est.cost == pytest.approx(7.0 * 0.12) and "$0.84" in est.line()
    table = tmp_path / "prices.toml"
    table.write_text('"runway-gen4.5" = 0.5\n')
    assert estimate(plan, open_model("runway-gen4.5"), table).cost == pytest.approx(3.5)
    monkeypatch.setenv("STORYREEL_PRICES", str(table))
    assert estimate(plan, open_model("runway-gen4.5")).prices_from == str(table)


def test_a_bad_price_table_names_its_file_and_entry(tmp_path):
    table = tmp_path / "prices.toml"
    table.write_text('"runway-gen4.5" = "cheap"\n')
    with pytest.raises(StoryreelError, match=r"prices.toml: runway-gen4.5: .*a number"):
        estimate(make_plan([48]), open_model("runway-gen4.5"), table)

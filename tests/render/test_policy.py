"""The prompt policy: refused subjects stop a render before any generation, with exit code 2 and the reason."""

import pytest
from typer.testing import CliRunner

from fakes import ExplodingModel, make_plan, make_song, use_backend
from storyreel.render import policy
from storyreel.cli import app
from storyreel.errors import StoryreelError

runner = CliRunner()


@pytest.mark.parametrize("prompt", [
    "Joe Biden waves from a balcony", "a crowd at a Donald-Trump rally", "vladimir putin on a horse",
    "a ballot box in the rain", "the presidential debate stage", "people queue at a polling station",
    "a poster that says VOTE FOR ME", "the election night party",
])
def test_default_policy_refuses_named_public_figures_and_election_content(prompt):
    assert policy.default_policy().match(prompt) is not None


@pytest.mark.parametrize("prompt", [
    "a yellow star drifts over a meadow", "a trumpet player at sunset", "two people dance in the kitchen, 1970s film",
    "a red circle moves right in a day sky",
])
def test_default_policy_lets_ordinary_prompts_through(prompt):
    assert policy.default_policy().match(prompt) is None


def test_check_plan_names_the_shot_the_words_and_the_others():
    plan = make_plan([10, 10, 10])
    plan.shots[1].prompt = "a couple walks past an Election poster"
    plan.shots[2].prompt = "barack obama smiles"
    with pytest.raises(StoryreelError) as e:
        policy.check_plan(plan)
    msg = e.value.format()
    assert e.value.exit_code == 2
    assert 'shot 2 is refused by the prompt policy (default): "Election"' in msg
    assert "elections and political campaigns" in msg and "also refused: shot 3" in msg and "nothing was generated" in msg


def test_policy_files_add_allow_and_replace_terms(tmp_path, monkeypatch):
    txt = tmp_path / "policy.txt"
    txt.write_text("# house rules\nacme corp\nre:\\bagent \\d{3}\\b\n!president*\n")
    p = policy.load_policy(txt)
    assert p.match("the ACME  Corp logo") and p.match("agent 007 runs") and not p.match("the president waves")
    assert p.match("joe biden")  # defaults kept
    txt.write_text("!defaults\nacme corp\n")
    assert not policy.load_policy(txt).match("joe biden")
    yml = tmp_path / "policy.yaml"
    yml.write_text("defaults: true\nrefuse: [dragons]\nallow: [voting]\n")
    p = policy.load_policy(yml)
    assert p.match("three dragons") and not p.match("voting booth") and p.match("ballot")
    monkeypatch.setenv("STORYREEL_POLICY", str(yml))
    assert policy.load_policy().source == str(yml)
    yml.write_text("refuse: {a: 1}\n")
    with pytest.raises(StoryreelError, match="lists of terms"):
        policy.load_policy(yml)
    with pytest.raises(StoryreelError, match="policy file not found"):
        policy.load_policy(tmp_path / "missing.txt")


def test_a_refused_prompt_stops_the_render_before_generation_with_exit_2(tmp_path, monkeypatch):
    calls = []
    use_backend(monkeypatch, ExplodingModel(), opened=calls)
    monkeypatch.setenv("STORYREEL_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.delenv("STORYREEL_POLICY", raising=False)
    make_song(tmp_path / "song.wav", 6.0)
    (tmp_path / "board.yaml").write_text(
        "title: t\nsong: song.wav\noutput: {size: 160x96, fps: 24}\n"
        "shots:\n  - prompt: a yellow star over a meadow\n  - prompt: Kamala Harris at a campaign rally\n")
    out = tmp_path / "out" / "v.mp4"
    res = runner.invoke(app, ["render", str(tmp_path / "board.yaml"), "-o", str(out)])
    assert res.exit_code == 2, res.output
    text = " ".join(res.output.split())
    assert 'shot 2 is refused by the prompt policy (default): "Kamala Harris" (a real, named public figure), "campaign rally"' in text
    assert calls == [] and not out.exists() and not (tmp_path / "cache").exists()
    # a policy file that allows it lets the plan through to the (here exploding) model
    (tmp_path / "p.txt").write_text("!kamala harris\n!campaign rally\n")
    res = runner.invoke(app, ["render", str(tmp_path / "board.yaml"), "-o", str(out), "--policy", str(tmp_path / "p.txt")])
    assert calls == ["builtin"]


def test_generate_checks_the_prompt_too(tmp_path):
    res = runner.invoke(app, ["generate", "vote for the candidate", "-o", str(tmp_path / "c.mp4")])
    assert res.exit_code == 2 and "refused by the prompt policy" in res.output and not (tmp_path / "c.mp4").exists()

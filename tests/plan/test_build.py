"""The planner: frame-exact shots on the beat grid, prompts, seeds, camera, transitions, JSON, table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from fakes import DEMO_SECTIONS, make_music_map
from storyreel.errors import StoryreelError
from storyreel.music import MusicMap
from storyreel.plan import ShotPlan, derive_seed, make_plan
from storyreel.storyboard import load_storyboard, parse_storyboard

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def plan(text: str, music: MusicMap, **kwargs) -> ShotPlan:
    return make_plan(parse_storyboard(text, path="sb.yaml"), music, **kwargs)


def assert_tiles(p: ShotPlan, music: MusicMap) -> None:
    """Contiguous shots from frame 0 to round(duration * fps), each at least one frame."""
    assert p.frames == round(music.duration * p.fps)
    assert p.shots[0].start_frame == 0 and p.shots[-1].end_frame == p.frames
    for a, b in zip(p.shots, p.shots[1:]):
        assert a.end_frame == b.start_frame
    assert all(s.frames > 0 for s in p.shots)
    assert sum(s.frames for s in p.shots) == p.frames
    assert [s.index for s in p.shots] == list(range(len(p.shots)))


def assert_on_beats(p: ShotPlan, music: MusicMap, *, downbeats: bool = False) -> None:
    """Every inner boundary is exactly round(t * fps) of the beat it sits on (no accumulated drift)."""
    downs = set(music.downbeats)
    for shot in p.shots[1:]:
        t = music.beats[shot.start_beat]
        assert shot.start_frame == round(t * p.fps), (shot.index, t)
        assert shot.start == shot.start_frame / p.fps
        if downbeats:
            assert t in downs, (shot.index, t)


SONG = make_music_map(100, sections=[("intro", 4), ("verse", 8), ("chorus", 8)])  # 20 bars, 2.4 s per bar


# Timing --------------------------------------------------------------------------------


def test_flexible_shots_share_the_song_on_downbeats() -> None:
    p = plan("song: demo\ntransition: cut\nshots:\n" + "".join(f"  - {{prompt: s{i}}}\n" for i in range(4))
             .replace("{prompt: s0}", "{prompt: s0, length: 4 bars}"), SONG)
    assert [s.bars for s in p.shots[:3]] == [4, 5, 6]  # 16 bars left for 3 shots: 5, 6, 5 (+ the tail)
    assert p.shots[3].bars > 5
    assert_tiles(p, SONG)
    assert_on_beats(p, SONG, downbeats=True)


@pytest.mark.parametrize("length, beats", [("2 bars", 8), ("1 bar", 4), ("4 beats", 4), ("6 beats", 6),
                                           ("3s", 5), ("2.4s", 4), ("0.5 bars", 2)])
def test_lengths_in_bars_beats_and_seconds(length: str, beats: int) -> None:
    p = plan(f"song: demo\nshots:\n  - {{prompt: a, length: {length}}}\n  - b\n", SONG)
    assert p.shots[1].start_beat == beats
    assert p.shots[1].start_frame == round(SONG.beats[beats] * 24)
    assert_tiles(p, SONG)


def test_fractional_beats_are_rounded_with_a_note() -> None:
    p = plan("song: demo\nshots:\n  - {prompt: a, length: 2.4 beats}\n  - b\n", SONG)
    assert p.shots[1].start_beat == 2 and "rounded to 2" in p.shots[0].notes[0]


def test_fixed_lengths_that_overflow_the_song_name_the_line() -> None:
    text = "song: demo\nshots:\n  - {prompt: a, length: 12 bars}\n  - prompt: b\n    length: 12 bars\n"
    with pytest.raises(StoryreelError) as info:
        plan(text, SONG)
    assert (info.value.file, info.value.line, info.value.field) == ("sb.yaml", 5, "shots[1].length")
    assert "does not fit" in info.value.message and "20 bars" in info.value.message


def test_a_fixed_shot_must_leave_room_for_later_shots() -> None:
    with pytest.raises(StoryreelError, match="20 bars leaves 0 beats for the 1 shot after it"):
        plan("song: demo\nshots:\n  - {prompt: a, length: 20 bars}\n  - b\n", SONG)


def test_short_fixed_storyboard_holds_the_last_shot_to_the_end() -> None:
    p = plan("song: demo\nshots:\n  - {prompt: a, length: 2 bars}\n  - {prompt: b, length: 2 bars}\n", SONG)
    assert p.shots[-1].end_frame == p.frames and "held" in p.shots[-1].notes[0]


def test_more_shots_than_bars_cut_on_beats_and_more_than_beats_is_an_error() -> None:
    tiny = make_music_map(120, sections=[("song", 2)])  # 8 beats
    p = plan("song: demo\nshots:\n  - {prompt: a, length: 1 beat}\n" + "  - b\n" * 5, tiny)
    assert len(p.shots) == 6 and any("cut on beats" in n for n in p.shots[1].notes)
    assert_tiles(p, tiny)
    assert_on_beats(p, tiny)
    with pytest.raises(StoryreelError) as info:
        plan("song: demo\nshots:\n" + "  - b\n" * 9, tiny)
    assert (info.value.line, info.value.field) == (2, "shots") and "8 beats for 9 shots" in info.value.message
    with pytest.raises(StoryreelError) as info:
        plan("song: demo\nshots:\n  - {prompt: a, length: 1 beat}\n" + "  - b\n" * 8, tiny)
    assert (info.value.line, info.value.field) == (3, "shots[0].length")
    assert "leaves 7 beats for the 8 shots after it" in info.value.message


def test_lead_in_and_tail_are_absorbed_by_first_and_last_shots() -> None:
    music = make_music_map(100, sections=[("song", 8)], offset=1.3, tail=2.0)
    p = plan("song: demo\nshots:\n  - {prompt: a, length: 2 bars}\n  - b\n", music)
    assert p.shots[0].start_frame == 0 and p.shots[1].start_frame == round(music.downbeats[2] * 24)
    assert p.shots[0].bars > 2  # includes the lead-in before the first downbeat
    assert_tiles(p, music)


def test_zero_drift_over_four_minutes_on_an_irregular_grid() -> None:
    music = make_music_map(100, sections=DEMO_SECTIONS, jitter=0.02, offset=0.37, seed=5)
    assert music.duration > 240
    prompts = "".join(f"  - {{prompt: p{i}, length: {'2 bars' if i % 3 else '5 beats'}}}\n" for i in range(60))
    p = plan("song: demo\noutput: {fps: 24}\nshots:\n" + prompts + "  - last\n", music)
    assert len(p.shots) == 61
    assert_tiles(p, music)
    assert_on_beats(p, music)
    sections = make_plan(load_storyboard(EXAMPLES / "hardest-part" / "storyboard.yaml"), music)
    assert_tiles(sections, music)
    assert_on_beats(sections, music, downbeats=True)


@pytest.mark.parametrize("fps", [12, 25, 30, 60])
def test_boundaries_are_exact_at_any_frame_rate(fps: int) -> None:
    music = make_music_map(97.3, sections=DEMO_SECTIONS, jitter=0.015, seed=fps)
    p = plan(f"song: demo\noutput: {{fps: {fps}}}\nshots: [{', '.join(f'p{i}' for i in range(50))}]\n", music)
    assert_tiles(p, music)
    assert_on_beats(p, music, downbeats=True)


# Sections ---------------------------------------------------------------------------------

SECTIONS = """\
song: demo
sections:
  - shots: [a, b]
  - era: in a day sky
    shots: [c, d, e, f]
  - shots: [g, h, i, j, k, l, m, n]
"""


def test_sections_mode_divides_each_sections_bars_among_its_shots() -> None:
    p = plan(SECTIONS, SONG)
    assert [s.bars for s in p.shots[:-1]] == [2, 2, 2, 2, 2, 2] + [1] * 7
    assert [s.section for s in p.shots] == ["intro"] * 2 + ["verse"] * 4 + ["chorus"] * 8
    assert [s.start_bar for s in p.shots[:3]] == [1, 3, 5]
    assert p.shots[2].era == "in a day sky" and p.shots[2].prompt == "c, in a day sky"
    assert_tiles(p, SONG)
    assert_on_beats(p, SONG, downbeats=True)


@pytest.mark.parametrize("ref, named", [("chorus", True), ("C", False), (3, False), ("'3'", True)])
def test_sections_can_be_named_by_name_label_or_number(ref: object, named: bool) -> None:
    music = make_music_map(100, sections=[("intro", 4), ("verse", 8), ("chorus", 8)], named=named)
    p = plan(f"song: demo\nsections:\n  - shots: [a]\n  - section: {ref}\n    shots: [b, c]\n", music)
    assert p.shots[1].start_frame == round(music.downbeats[12] * 24)  # a covers intro and the skipped verse
    assert "also covers" in p.shots[0].notes[0]


def test_repeated_names_take_the_next_match() -> None:
    music = make_music_map(100, sections=[("verse", 4), ("chorus", 4), ("verse", 4), ("chorus", 4)])
    p = plan("song: demo\nsections:\n  - {section: chorus, shots: [a]}\n  - {section: chorus, shots: [b]}\n", music)
    assert p.shots[1].start_frame == round(music.downbeats[12] * 24)


def test_unknown_section_reference_names_the_line_and_lists_sections() -> None:
    music = make_music_map(100, sections=[("intro", 4), ("verse", 8)], named=False)
    with pytest.raises(StoryreelError) as info:
        plan("song: demo\nsections:\n  - shots: [a]\n  - section: chorus\n    shots: [b]\n", music)
    err = info.value
    assert (err.line, err.field) == (4, "sections[1].section")
    assert "1=A, 2=B" in err.message and "no names" in err.message


def test_section_too_small_for_its_fixed_lengths() -> None:
    with pytest.raises(StoryreelError) as info:
        plan("song: demo\nsections:\n  - shots:\n      - {prompt: a, length: 8 bars}\n  - shots: [b]\n"
             "  - shots: [c]\n", SONG)
    assert (info.value.line, info.value.field) == (4, "sections[0].shots[0].length")
    assert "section 1 (intro: 4 bars)" in info.value.message


def test_mismatched_section_counts_fall_back_to_bars_hints() -> None:
    music = make_music_map(100, sections=[("a", 10), ("b", 10)])
    text = "song: demo\nsections:\n" + "".join(f"  - {{bars: {b}, shots: [s{b}]}}\n" for b in (2, 6, 12))
    p = plan(text, music)
    assert [s.start_frame for s in p.shots] == [0, round(music.downbeats[2] * 24), round(music.downbeats[8] * 24)]
    assert "in proportion" in p.shots[0].notes[0]


# Pacing --------------------------------------------------------------------------------------


def test_auto_pacing_gives_louder_sections_shorter_shots() -> None:
    p = plan("song: demo\nshots: [a, b, c]\n", SONG)
    by_section: dict[str, list[float]] = {}
    for s in p.shots:
        by_section.setdefault(s.section, []).append(s.bars)
    assert by_section["intro"] == [4] and by_section["verse"] == [2] * 4 and by_section["chorus"][:-1] == [1] * 7
    assert [s.text for s in p.shots] == ["a"] * 5 + ["b"] * 4 + ["c"] * 4
    assert len({s.seed for s in p.shots}) == len(p.shots)  # every repeat of a prompt is a fresh take
    assert "prompt 1 of 3, part 2 of 5" in p.shots[1].notes


@pytest.mark.parametrize("pacing, bars", [("slow", 4), ("normal", 2), ("fast", 1)])
def test_fixed_pacing_sets_bars_per_shot(pacing: str, bars: int) -> None:
    p = plan(f"song: demo\npacing: {pacing}\nshots: [a, b]\n", SONG)
    assert len(p.shots) == 20 // bars and all(s.bars == bars for s in p.shots[:-1])


def test_more_prompts_than_paced_shots_gives_one_shot_each() -> None:
    p = plan("song: demo\npacing: slow\nshots: [a, b, c, d, e, f, g, h]\n", SONG)
    assert [s.text for s in p.shots] == list("abcdefgh")
    assert "one shot per prompt" in p.shots[0].notes[0]


# Prompts, seeds, camera, transitions --------------------------------------------------------------

LOOKS = """\
song: demo
style: soft
characters: {she: a pink heart, he: a blue circle}
timeline:
  - {at: 0.0, era: over a meadow}
  - {at: 0.5, era: at sunset}
  - {at: chorus, era: in the night sky}
shots:
  - prompt: "{she} and {he} drift toward each other"
    length: 4 bars
  - prompt: "{he} grows"
    length: 4 bars
  - prompt: x
    length: 4 bars
  - prompt: y
    length: 6 bars
  - z
"""


def test_prompts_substitute_characters_and_add_era_and_style() -> None:
    p = plan(LOOKS, SONG)
    assert p.shots[0].prompt == "a pink heart and a blue circle drift toward each other, over a meadow, soft"
    assert p.shots[0].characters == ["she", "he"] and p.shots[0].text.startswith("{she}")
    # midpoints 0.1, 0.3, 0.5, 0.75, 0.95; keyframes at 0, 0.5 and the chorus (bar 13 of 20 = 0.6)
    assert [s.era for s in p.shots] == ["over a meadow", "at sunset", "at sunset", "in the night sky",
                                        "in the night sky"]


def test_timeline_refers_to_unknown_section() -> None:
    with pytest.raises(StoryreelError) as info:
        plan("song: demo\ntimeline: [{at: solo, era: x}]\nshots: [a]\n", SONG)
    assert (info.value.line, info.value.field) == (2, "timeline[0].at")


def test_seeds_are_deterministic_and_stable_when_a_shot_is_inserted() -> None:
    a = plan("song: demo\nseed: 1\nshots: [a, b, c]\n", SONG)
    b = plan("song: demo\nseed: 1\nshots: [a, b, c]\n", SONG)
    assert [s.seed for s in a.shots] == [s.seed for s in b.shots]
    one = plan("song: demo\nseed: 1\nshots:\n  - {prompt: a, length: 2 bars}\n  - c\n", SONG)
    two = plan("song: demo\nseed: 1\nshots:\n  - {prompt: a, length: 2 bars}\n  - b\n  - c\n", SONG)
    assert one.shots[1].seed == two.shots[2].seed == derive_seed(1, "c", 0)
    assert plan("song: demo\nshots: [a]\n", SONG, seed=1).shots[0].seed == derive_seed(1, "a", 0)
    pinned = plan("song: demo\nshots:\n  - {prompt: a, seed: 42}\n", SONG)
    assert pinned.shots[0].seed == 42 and pinned.seed == 0


def test_model_override() -> None:
    p = plan("song: demo\nmodel: wan\nshots: [a]\n", SONG, model="builtin")
    assert p.model == "builtin" and all(s.model == "builtin" for s in p.shots)


def test_camera_merges_field_by_field_and_notes_continuity() -> None:
    text = """\
song: demo
camera: {move: zoom_in, amount: 0.1, continuous: true}
sections:
  - camera: {easing: ease_in}
    shots:
      - a
      - {prompt: b, camera: pan_left}
  - shots: [c]
"""
    p = plan(text, SONG)
    first, second, third = (s.camera for s in p.shots)
    assert (first.move, first.amount, first.easing, first.continuous) == ("zoom_in", 0.1, "ease_in", True)
    assert (second.move, second.amount, second.easing) == ("pan_left", 0.1, "ease_in")
    assert third.easing == "linear"
    assert not any("continues" in n for n in p.shots[0].notes)
    assert "camera continues from the previous shot's last frame" in p.shots[1].notes


def test_transitions_convert_beats_to_frames_at_the_local_tempo() -> None:
    text = """\
song: demo
transition: {kind: crossfade, beats: 1}
shots:
  - {prompt: a, length: 1 bar, transition: zoom_through}
  - {prompt: b, length: 1 bar, transition: {kind: crossfade, beats: 2}}
  - {prompt: c, length: 1 beat, transition: {kind: crossfade, beats: 8}}
  - d
  - {prompt: e, transition: cut}
"""
    p = plan(text, SONG)
    t = [s.transition for s in p.shots]
    assert (t[0].kind, t[0].frames) == ("cut", 0) and "first shot starts with a cut" in p.shots[0].notes[0]
    assert (t[1].kind, t[1].beats, t[1].frames) == ("crossfade", 2, round(2 * 0.6 * 24))
    assert t[2].frames == p.shots[2].frames and "shortened" in p.shots[2].notes[0]  # capped by the 1-beat shot
    assert (t[3].kind, t[3].frames) == ("crossfade", round(0.6 * 24))
    assert (t[4].kind, t[4].frames) == ("cut", 0)


# The examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize("named", [True, False])
def test_demo_storyboard_plans_about_55_shots(named: bool) -> None:
    sb = load_storyboard(EXAMPLES / "hardest-part" / "storyboard.yaml")
    music = make_music_map(100, sections=DEMO_SECTIONS, named=named)
    p = make_plan(sb, music)
    assert 50 <= len(p.shots) <= 60
    assert (p.width, p.height, p.fps, p.model) == (1280, 720, 24, "builtin")
    assert 230 < p.duration < 280
    assert all(s.camera.move == "zoom_in" and s.camera.continuous for s in p.shots)
    assert all(1 <= len(re.findall(r"\b(circle|square|triangle|star|heart)\b", s.prompt)) <= 2 for s in p.shots)
    assert [s.era for s in p.shots][:: len(p.shots) - 1] == ["over a meadow", "under a starry night sky"]
    assert_tiles(p, music)
    assert_on_beats(p, music, downbeats=True)


def test_demo_storyboard_survives_a_different_section_analysis() -> None:
    sb = load_storyboard(EXAMPLES / "hardest-part" / "storyboard.yaml")
    music = make_music_map(100, sections=[("A", 24), ("B", 32), ("A", 32), ("C", 20)], named=False)
    p = make_plan(sb, music)
    assert len(p.shots) == 55 and "in proportion" in p.shots[0].notes[0]
    assert_tiles(p, music)


def test_minimal_example_plans() -> None:
    sb = load_storyboard(EXAMPLES / "minimal" / "storyboard.yaml")
    p = make_plan(sb, SONG)
    assert [s.start_beat for s in p.shots] == [0, 16, 24, 32]
    assert p.shots[1].camera.move == "pan_right" and p.shots[2].transition.kind == "crossfade"
    assert p.shots[0].prompt == "a yellow star stays still over a meadow"


def test_demo_speaks_only_the_builtin_models_vocabulary_and_avoids_held_out_scenes() -> None:
    """Every demo prompt is one or two known objects with known motions in a known setting, seen in training."""
    from storyreel import world

    p = make_plan(load_storyboard(EXAMPLES / "hardest-part" / "storyboard.yaml"),
                  make_music_map(100, sections=DEMO_SECTIONS))
    settings = {w: k for k, words in world.SETTING_WORDS.items() for w in words}
    motions = {w: k for k, words in world.MOTION_WORDS.items() for w in words}
    motion_re = "|".join(sorted(map(re.escape, motions), key=len, reverse=True))
    thing_re = rf"an? ({'|'.join(world.COLOURS)}) ({'|'.join(world.SHAPES)})"
    for shot in p.shots:
        body, era = shot.prompt.rsplit(", ", 1)
        toward = any(w in body for w in world.TOWARD_WORDS)
        things = re.findall(thing_re, body)
        moves = ["right", "left"] if toward else [motions[m] for m in re.findall(motion_re, body)]
        assert era in settings and 1 <= len(things) == len(moves) <= 2, shot.prompt
        rest = re.sub(motion_re, "", re.sub(thing_re, "", body)).replace("and", "")
        for w in world.TOWARD_WORDS:
            rest = rest.replace(w, "")
        assert not rest.strip(), (shot.prompt, rest)  # no words outside the vocabulary
        for (colour, shape), move in zip(things, moves):
            assert not world.is_heldout(world.Thing(colour, shape, move), settings[era]), shot.prompt


# What the backend declares it can do ----------------------------------------------------------

CONTINUOUS = """\
song: demo
camera: {move: zoom_in, amount: 0.2, continuous: true}
shots:
  - {prompt: a, length: 2 bars}
  - {prompt: b, length: 2 bars}
  - {prompt: c, length: 1 bar, transition: {kind: crossfade, beats: 1}}
  - {prompt: d, length: 1 bar}
"""


def test_backend_without_conditioning_falls_back_to_zoom_through_and_says_so() -> None:
    p = plan(CONTINUOUS, SONG, model="t2v-only", capabilities={"t2v", "extend"})
    kinds = [s.transition.kind for s in p.shots]
    assert kinds == ["cut", "zoom_through", "crossfade", "zoom_through"]  # an asked-for transition stays
    one_beat = round(0.6 * 24)
    assert all(p.shots[i].transition.frames == one_beat and p.shots[i].transition.beats == 1.0 for i in (1, 3))
    assert any("t2v-only has no image conditioning: continuous camera falls back to a zoom-through" in n
               for n in p.shots[1].notes)
    assert not any("zoom-through" in n for n in p.shots[2].notes)
    # the Cut is computed from those transitions, once
    assert [o.kind for o in p.cut.overlaps] == kinds and p.cut.into(1).frames == one_beat


def test_zoom_through_fallback_follows_the_songs_tempo() -> None:
    """Not a fixed 100 BPM beat: at 150 BPM one beat is 0.4 s."""
    p = plan(CONTINUOUS, make_music_map(150, bars=12), capabilities={"t2v"})
    assert p.shots[1].transition.frames == round(0.4 * 24) == 10


def test_backend_with_conditioning_keeps_the_cuts() -> None:
    p = plan(CONTINUOUS, SONG, capabilities={"t2v", "i2v", "extend"})
    assert [s.transition.kind for s in p.shots] == ["cut", "cut", "crossfade", "cut"]
    assert not any("zoom-through" in n for s in p.shots for n in s.notes)


def test_reference_images_a_backend_ignores_are_noted(tmp_path: Path) -> None:
    (tmp_path / "she.png").write_bytes(b"png")
    text = ("song: demo\ncharacters:\n  she: {description: a red heart, image: she.png}\n  he: a yellow circle\n"
            "shots:\n  - {prompt: \"{she} grows\", length: 4 bars}\n  - {prompt: \"{he} shrinks\", length: 4 bars}\n"
            "  - \"{he} and {she} meet\"\n")
    sb = parse_storyboard(text, path=tmp_path / "sb.yaml")
    noted = make_plan(sb, SONG, capabilities={"t2v", "i2v"})
    assert any("takes no reference images: she's image is passed but not used" in n for n in noted.shots[0].notes)
    assert not any("reference" in n for n in noted.shots[1].notes)
    assert any("reference" in n for n in noted.shots[2].notes)
    assert not any("reference" in n for s in make_plan(sb, SONG, capabilities={"t2v", "reference"}).shots
                   for n in s.notes)


def test_takes_and_grade_are_planned_not_patched_on() -> None:
    p = plan("song: demo\ngrade: {strength: 0.5}\nshots: [a, b]\n", SONG, takes=3, grade=False)
    assert p.takes == 3 and p.grade is None
    on = plan("song: demo\nshots: [a, b]\n", SONG, grade=True)
    assert on.grade is not None and on.grade.match == "previous"
    kept = plan("song: demo\ngrade: {strength: 0.5}\nshots: [a, b]\n", SONG)
    assert kept.grade.strength == 0.5 and kept.takes == 1


# Characters and looks over time ----------------------------------------------------------------

CHARACTER_LOOKS = """\
song: demo
style: soft light
characters:
  she: {description: a red heart, image: she.png}
  old_she: a white heart
timeline:
  - {at: 0, era: over a meadow}
  - {at: chorus, era: in the night sky}
sections:
  - shots: ["{she} stays still", "{she} grows"]
  - shots: ["{old_she} moves up"]
  - era: at sunset
    shots: ["{she} and {old_she} drift toward each other"]
"""


def test_characters_are_substituted_and_the_timeline_picks_the_nearest_look(tmp_path):
    (tmp_path / "she.png").write_bytes(b"png")
    song = make_music_map(bpm=120, sections=[("verse", 8), ("chorus", 8), ("outro", 4)])
    plan = make_plan(parse_storyboard(CHARACTER_LOOKS, path=tmp_path / "sb.yaml"), song)
    prompts = [s.prompt for s in plan.shots]
    assert prompts == ["a red heart stays still, over a meadow, soft light",
                       "a red heart grows, in the night sky, soft light",  # nearer the chorus keyframe
                       "a white heart moves up, in the night sky, soft light",
                       "a red heart and a white heart drift toward each other, at sunset, soft light"]
    assert [s.characters for s in plan.shots] == [["she"], ["she"], ["old_she"], ["she", "old_she"]]
    assert plan.characters["she"]["image"] == str((tmp_path / "she.png").resolve())
    assert plan.characters["old_she"]["image"] == ""


def test_timeline_keyframes_between_shots_go_to_the_nearer_one():
    text = """\
song: demo
timeline: [{at: 0, era: one}, {at: 0.5, era: two}, {at: 1, era: three}]
shots: [a, b, c, d, e, f, g, h]
pacing: fast
"""
    plan = make_plan(parse_storyboard(text), make_music_map(bpm=120, bars=8))
    mids = [(s.start_frame + s.end_frame) / 2 / plan.frames for s in plan.shots]
    expect = ["one" if m <= 0.25 else "two" if m <= 0.75 else "three" for m in mids]
    assert [s.era for s in plan.shots] == expect and len(set(expect)) == 3

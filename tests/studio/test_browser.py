"""The studio in a real browser (headless chromium): the song, the lane, edits, drags, reloads."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from storyreel.errors import StoryreelError
from storyreel.storyboard import load_storyboard


def _plan(page) -> dict:
    return page.evaluate("window.studio.plan")


def _song(page) -> dict:
    return page.evaluate("window.studio.song")


def _wait_for(page, js: str, timeout: float = 20.0):
    page.wait_for_function(js, timeout=timeout * 1000)


def test_the_page_shows_the_beat_grid_and_the_shot_blocks(page):
    song = _song(page)
    assert page.locator("#grid .beat").count() == len(song["beats"])
    assert page.locator("#grid .beat.down").count() == len(song["downbeats"])
    assert page.locator("#grid .bar-number").first.inner_text() == "1"
    assert page.locator("#sections .section").count() == len(song["sections"])
    assert page.locator("#confidence [data-conf='tempo']").inner_text().startswith("tempo ")
    assert page.locator("#wave").locator("css=div").count() > 0  # wavesurfer drew into it
    blocks = page.locator("#lane .shot")
    assert blocks.count() == 3
    lane = page.locator("#lane").bounding_box()
    for i, shot in enumerate(_plan(page)["shots"]):
        box = blocks.nth(i).bounding_box()
        assert abs((box["x"] - lane["x"]) / lane["width"] - shot["start"] / song["duration"]) < 0.005
    assert "a blue square moves up" in blocks.nth(1).inner_text()
    assert "crossfade" in blocks.nth(1).inner_text()


def test_editing_a_prompt_changes_the_plan(page, board):
    page.click("#lane .shot[data-index='1']")
    page.fill("[data-field='prompt']", "a purple circle moves left")
    page.press("[data-field='prompt']", "Tab")
    _wait_for(page, "window.studio.plan.shots[1].text === 'a purple circle moves left'")
    assert "a purple circle moves left" in page.locator("#lane .shot[data-index='1']").inner_text()
    assert "a purple circle moves left" in board.read_text() and "# the opening" in board.read_text()
    page.fill("[data-field='length']", "2 bars")
    page.press("[data-field='length']", "Tab")
    _wait_for(page, "window.studio.plan.shots[1].bars === 2")


def test_the_editor_says_what_the_model_read_and_follows_an_edit(page):
    page.click("#lane .shot[data-index='1']")
    reading = page.locator("#shot-reading")
    assert reading.is_visible()
    assert reading.inner_text() == "nocond reads this as: one scene of the world for 'a blue square moves up'"
    page.fill("[data-field='prompt']", "a pink heart sinks")
    page.press("[data-field='prompt']", "Tab")
    _wait_for(page, "document.querySelector('#shot-reading').textContent.includes('a pink heart sinks')")


def test_a_bad_edit_shows_the_clis_error_next_to_the_field(page, board):
    before = board.read_text()
    page.click("#lane .shot[data-index='1']")
    page.fill("[data-field='length']", "2 barz")
    page.press("[data-field='length']", "Tab")
    err = page.locator("[data-field='length'] ~ .err")
    err.wait_for(state="visible")
    _wait_for(page, "document.querySelector(\"[data-field='length'] ~ .err\").textContent.length > 0")
    (board.parent / "bad.yaml").write_text(before.replace("length: 1 bar\n", "length: 2 barz\n"))
    with pytest.raises(StoryreelError) as cli:
        load_storyboard(board.parent / "bad.yaml")
    assert err.inner_text() == cli.value.format().replace("bad.yaml", "board.yaml")
    assert board.read_text() == before


def test_dragging_a_boundary_lands_on_a_beat(page, board):
    song, before = _song(page), _plan(page)
    lane = page.locator("#lane").bounding_box()
    handle = page.locator("#lane .handle[data-after='0']").bounding_box()
    target = 2.62  # seconds: between beats, nearer one
    x = lane["x"] + lane["width"] * target / song["duration"]
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + 20)
    page.mouse.down()
    page.mouse.move(x - 30, handle["y"] + 20, steps=4)
    page.mouse.move(x, handle["y"] + 20, steps=4)
    page.mouse.up()
    _wait_for(page, f"window.studio.plan.version !== {json.dumps(before['version'])}")
    start = _plan(page)["shots"][1]["start"]
    nearest = min(song["beats"], key=lambda b: abs(b - target))
    assert abs(start - nearest) <= 1 / 24 + 1e-6  # on the beat, to the frame
    assert _plan(page)["shots"][2]["start"] == before["shots"][2]["start"]  # the next cut stayed
    left = page.locator("#lane .handle[data-after='0']").bounding_box()["x"] + 4.5
    beats = [page.locator("#grid .beat").nth(i).bounding_box()["x"] for i in range(len(song["beats"]))]
    assert min(abs(b - left) for b in beats) < 2.5  # the drawn cut sits on a drawn beat line
    assert "length: " in board.read_text() and "beats" in board.read_text()


def test_reloading_finds_everything_as_it_was(page):
    page.click("#lane .shot[data-index='0']")
    page.fill("[data-field='prompt']", "{she} grows")
    page.press("[data-field='prompt']", "Tab")
    _wait_for(page, "window.studio.plan.shots[0].text === '{she} grows'")
    before = _plan(page)
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    after = _plan(page)
    assert after["version"] == before["version"]
    assert [s["text"] for s in after["shots"]] == [s["text"] for s in before["shots"]]
    assert "{she} grows" in page.locator("#lane .shot[data-index='0']").inner_text()


def test_an_edit_in_a_text_editor_shows_up_in_the_page(page, board):
    board.write_text(board.read_text().replace("a green star grows", "a white circle shrinks"))
    _wait_for(page, "window.studio.plan.shots[2].text === 'a white circle shrinks'")
    assert "changed on disk" in page.locator("#banner").inner_text()


def test_the_page_without_the_token_is_refused(chromium, running):
    context = chromium.new_context()
    pg = context.new_page()
    response = pg.goto(running.url.split("?")[0])
    assert response.status == 401
    context.close()


def test_generate_a_shot_re_roll_it_and_keep_the_second_take(page):
    page.click("#lane .shot[data-index='1']")
    page.click("#generate-one")
    thumb = page.locator("#lane .shot[data-index='1'] img")
    thumb.wait_for(timeout=30_000)
    _wait_for(page, "document.querySelector(\"#lane .shot[data-index='1'] img\").naturalWidth > 0")
    assert page.locator("#lane .shot[data-index='0'] img").count() == 0  # only the asked shot
    assert "generate shots 2: done" in page.locator("#jobs").inner_text()
    page.click("#reroll")
    page.locator("#takes .take[data-take='1']").wait_for(timeout=30_000)
    assert page.locator("#takes .take").count() == 2
    assert "score 0." in page.locator("#takes .take[data-take='1']").inner_text()
    page.click("#takes .take[data-take='1'] button")
    page.locator("#takes .take.kept[data-take='1']").wait_for()
    second = _plan(page)["shots"][1]["takes"][1]["key"]
    assert second in thumb.get_attribute("src")
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    assert _plan(page)["shots"][1]["kept"] == 1
    assert second in page.locator("#lane .shot[data-index='1'] img").get_attribute("src")


def test_render_from_the_page_and_play_the_mp4(page, board):
    page.click("#render-btn")
    page.locator("#result:not([hidden])").wait_for(timeout=90_000)
    assert "render: done" in page.locator("#jobs").inner_text()
    assert "encoding" in page.locator("#jobs").inner_text()  # per-stage progress was shown
    _wait_for(page, "document.querySelector('#contact-sheet').naturalWidth > 0")
    links = page.locator("#downloads a")
    assert sorted(links.all_inner_texts()) == ["download MP4", "download OTIO", "download manifest"]
    playing = page.evaluate("""async () => {
        const v = document.querySelector('#render-video')
        v.muted = true
        await v.play()
        await new Promise((ok) => setTimeout(ok, 700))
        return [v.currentTime, v.videoWidth, v.duration]
    }""")
    assert playing[0] > 0.1 and playing[1] == 160 and abs(playing[2] - 8.0) < 0.2
    if os.environ.get("STORYREEL_STUDIO_SCREENSHOTS"):  # docs/studio-render.png comes from here
        page.click("#lane .shot[data-index='1']")
        page.screenshot(path=str(Path(os.environ["STORYREEL_STUDIO_SCREENSHOTS"]) / "studio-render.png"))
    with page.expect_download() as dl:
        page.click("#downloads a:has-text('MP4')")
    assert dl.value.suggested_filename == "render.mp4"
    assert (board.parent / "board.studio" / "render.mp4").is_file()
    assert page.locator("#lane .shot img").count() == 3  # the render's takes are the lane's thumbnails


def test_the_animatic_plays_in_step_with_the_song(page):
    page.click("#animatic-btn")
    page.locator("#animatic:not([hidden])").wait_for(timeout=60_000)
    _wait_for(page, "document.querySelector('#animatic').readyState >= 1")
    page.evaluate("window.studio.ws.setTime(4.0)")
    _wait_for(page, "Math.abs(document.querySelector('#animatic').currentTime - 4.0) < 0.2")


def test_correcting_the_tempo_and_first_downbeat_redraws_the_grid(page, board):
    before = page.locator("#grid .beat").count()
    page.fill("[data-correct='tempo']", "90")
    page.press("[data-correct='tempo']", "Tab")
    _wait_for(page, "Math.abs(window.studio.song.tempo - 90) < 1")
    _wait_for(page, f"document.querySelectorAll('#grid .beat').length !== {before}")
    assert page.locator("#grid .beat").count() == len(_song(page)["beats"])
    page.evaluate("window.studio.ws.setTime(1.0)")
    page.click("[data-here='downbeat_offset']")
    _wait_for(page, "Math.abs(window.studio.song.downbeats[0] - 1.0) < 0.05")
    text = board.read_text()
    assert "tempo: 90" in text and "downbeat_offset: 1" in text and "# the opening" in text


def test_play_scrub_and_loop_a_range(page):
    page.evaluate("window.studio.ws.setTime(3.0)")
    _wait_for(page, "document.querySelector('#clock').textContent === '0:03.0'")
    page.evaluate("window.studio.ws.setMuted(true)")
    page.evaluate("window.studio.regions.addRegion({start: 1.0, end: 1.6})")
    page.check("#loop")
    page.evaluate("window.studio.loopRegion.play()")
    page.wait_for_timeout(1500)  # more than twice the range: it must have looped back
    t = page.evaluate("window.studio.ws.getCurrentTime()")
    assert 0.95 <= t <= 1.75, t
    assert page.locator("#play").inner_text() == "Pause"
    page.uncheck("#loop")
    page.click("#play")
    _wait_for(page, "document.querySelector('#play').textContent === 'Play' && !window.studio.ws.isPlaying()")


def test_two_tabs_a_stale_edit_is_refused_with_a_message(page, board):
    other = page.context.new_page()
    other.goto(page.studio_url)
    other.wait_for_selector("body[data-ready='1']")
    page.click("#lane .shot[data-index='0']")
    page.fill("[data-field='prompt']", "{she} grows")
    page.press("[data-field='prompt']", "Tab")
    _wait_for(page, "window.studio.plan.shots[0].text === '{she} grows'")
    other.evaluate("window.studio.plan.version = 'made-before-the-other-tab-wrote'")  # as if it had not heard yet
    other.click("#lane .shot[data-index='1']")
    other.fill("[data-field='prompt']", "a white circle shrinks")
    other.press("[data-field='prompt']", "Tab")
    _wait_for(other, "document.querySelector('#banner').textContent.includes('changed since')")
    text = board.read_text()
    assert "{she} grows" in text and "a white circle shrinks" not in text
    _wait_for(other, "window.studio.plan.shots[0].text === '{she} grows'")  # it now shows the file as it is
    other.close()


def test_generate_a_range_of_shots(page):
    page.click("#lane .shot[data-index='1']")
    page.once("dialog", lambda d: d.accept("2-3"))
    page.click("#generate-range")
    _wait_for(page, "window.studio.plan.shots[1].kept != null && window.studio.plan.shots[2].kept != null", 60)
    assert _plan(page)["shots"][0]["kept"] is None
    assert page.locator("#lane .shot img").count() == 2

"""output.prefetch: the stream comes out whole and in order, its work runs in another thread, errors reach the consumer."""

import threading
import time

import pytest

from storyreel.output.prefetch import prefetched


def test_items_come_out_in_order_and_are_made_in_a_worker_thread():
    made_in = []

    def source():
        for i in range(50):
            made_in.append(threading.get_ident())
            yield i

    assert list(prefetched(source(), depth=3)) == list(range(50))
    assert set(made_in) and threading.get_ident() not in made_in


def test_the_worker_runs_ahead_while_the_consumer_works():
    """Producer and consumer each sleep 20 ms per item: side by side, 20 items take ~0.4 s, not ~0.8 s."""

    def slow():
        for i in range(20):
            time.sleep(0.02)
            yield i

    t = time.perf_counter()
    waited = [0.0]
    for _ in prefetched(slow(), depth=4, waited=waited):
        time.sleep(0.02)
    wall = time.perf_counter() - t
    assert wall < 0.65
    assert 0.0 < waited[0] < 0.2  # only the first item is waited for in full


def test_an_error_in_the_source_is_raised_to_the_consumer_after_the_items_before_it():
    def broken():
        yield 1
        yield 2
        raise ValueError("frame 3 is broken")

    got = []
    with pytest.raises(ValueError, match="frame 3"):
        for x in prefetched(broken()):
            got.append(x)
    assert got == [1, 2]


def test_closing_early_stops_the_worker_and_closes_the_source():
    closed = threading.Event()

    def endless():
        try:
            i = 0
            while True:
                yield i
                i += 1
        finally:
            closed.set()

    stream = prefetched(endless(), depth=2)
    assert next(stream) == 0
    stream.close()
    assert closed.wait(2.0)
    time.sleep(0.1)
    assert not any(t.name == "storyreel-prefetch" and t.is_alive() for t in threading.enumerate())

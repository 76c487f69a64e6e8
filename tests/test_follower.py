"""assistant/follower.py: the engine a long-running process answers with follows the models
directory's current version. Stand-in engines that only know their version (no models are
loaded here; tests/test_versions.py and tests/test_triage_tui.py do it with real ones)."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

import pytest

from assistant.errors import ModelError
from assistant.follower import ModelFollower, load_in_background
from assistant.versions import ModelStore

FAST = 0.01  # the pointer is checked this often here


class Engine:
    """What `DialogueEngine.load` gives a follower: an engine naming its version."""

    def __init__(self, version: str) -> None:
        self.model_version = version


@pytest.fixture
def store(tmp_path):
    """A models directory with versions 1, 2 and 3 (manifests only), 1 current."""
    store = ModelStore(tmp_path / "models")
    store.path.mkdir()
    for n in range(3):
        store.add_version(store.new_version(), {"parent": None, "source": "test"}, n == 0)
    assert store.current_id() == "1"
    return store


def loader(store: ModelStore, failing: set[str] | None = None):
    """Loads the current version, as `DialogueEngine.load(models_dir)` does; counts loads."""

    def load() -> Engine:
        load.calls += 1
        vid = store.current_id()
        if vid in (failing or set()):
            raise ModelError(f"{store.path}/versions/{vid}/intent/head.safetensors is damaged")
        return Engine(vid)

    load.calls = 0
    return load


def test_a_promoted_version_is_swapped_in_and_said(store):
    notices: list[str] = []
    follower = ModelFollower(Engine("1"), notice=notices.append)
    follower.follow(store.path, loader(store), FAST)
    try:
        in_turn = follower.engine  # a turn in progress keeps its engine
        store.promote("3")
        assert follower.wait_for_version("3", 10)
        assert in_turn.model_version == "1" and follower.engine.model_version == "3"
        assert notices == ["Models: now version 3 (was 1)."]
        store.rollback()
        assert follower.wait_for_version("1", 10)
        assert notices[-1] == "Models: now version 1 (was 3)."
        assert follower.switches == 2
    finally:
        follower.stop()


def test_a_version_that_does_not_load_is_reported_and_the_loaded_one_answers_on(store):
    notices: list[str] = []
    load = loader(store, failing={"2"})
    follower = ModelFollower(Engine("1"), notice=notices.append)
    follower.follow(store.path, load, FAST)
    try:
        store.promote("2")
        deadline = time.monotonic() + 10
        while not notices and time.monotonic() < deadline:
            time.sleep(FAST)
        assert notices == [
            f"Model version 2 could not be loaded ({store.path}/versions/2/intent/"
            "head.safetensors is damaged); still using version 1."
        ]
        assert follower.version == "1"
        store.promote("3")  # the next switch is followed again
        assert follower.wait_for_version("3", 10)
    finally:
        follower.stop()


def test_a_switch_while_the_first_engine_loads_is_followed_once_it_is_loaded(store):
    release = threading.Event()
    load = loader(store)

    def slow_first_load() -> Engine:
        engine = load()  # version 1, read before the switch below
        release.wait(10)
        return engine

    follower = ModelFollower(load_in_background(slow_first_load))
    follower.follow(store.path, load, FAST)
    try:
        assert follower.version is None  # loading: nothing to compare yet
        store.promote("2")
        release.set()
        assert follower.engine.model_version in ("1", "2")  # waits for the first load
        assert follower.wait_for_version("2", 10)
    finally:
        follower.stop()


def test_loading_errors_reach_whoever_waits_for_the_engine():
    future: Future = Future()
    future.set_exception(ModelError("no models"))
    follower = ModelFollower(future)
    assert follower.version is None and follower.loaded() is None
    with pytest.raises(ModelError, match="no models"):
        _ = follower.engine


def test_without_versions_or_after_stop_nothing_is_followed(store, tmp_path):
    load = loader(store)
    unversioned = ModelFollower(Engine(None))  # a directory without versions
    unversioned.follow(tmp_path, load, FAST)
    stopped = ModelFollower(Engine("1"))
    stopped.follow(store.path, load, FAST)
    stopped.stop()
    store.promote("2")
    time.sleep(20 * FAST)  # twenty checks' worth
    unversioned.stop()
    assert load.calls == 0
    assert stopped.version == "1" and unversioned.version is None
    with pytest.raises(ValueError, match="needs `load`"):
        ModelFollower(None).follow(store.path)

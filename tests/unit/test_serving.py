"""The serving process's garbage collection settings."""

import gc
from collections.abc import Iterator

import pytest

from crm.serving import YOUNG_COLLECTION_THRESHOLD, tune_garbage_collector


@pytest.fixture
def collector_as_it_was() -> Iterator[None]:
    threshold = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)


@pytest.mark.usefixtures("collector_as_it_was")
def test_what_the_process_built_before_serving_is_left_out_of_later_collections() -> None:
    built_before: list[str] = []  # a container, so the collector tracks it

    tune_garbage_collector()

    assert gc.get_freeze_count() > 0
    assert not any(built_before is o for o in gc.get_objects())
    assert gc.get_threshold()[0] == YOUNG_COLLECTION_THRESHOLD

"""``meetnow.lib.gcfreeze``: what a server process holds after setup leaves the cyclic
collector's reach; what comes later stays in it (so closed sockets are still collected)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from django.test import override_settings
from django.utils.translation import trans_real

from meetnow.lib.gcfreeze import gc_freeze_setup


@pytest.fixture(autouse=True)
def _unfreeze() -> Iterator[None]:
    gc.unfreeze()
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


def _collected(obj: object) -> bool:
    """Is ``obj`` in a generation the collector walks (not the permanent one)?"""
    return any(o is obj for o in gc.get_objects())


@override_settings(MEETNOW_GC_FREEZE=True)
def test_setup_objects_are_frozen_later_ones_are_collected() -> None:
    before: list[object] = []
    loaded: dict[str, object] = vars(trans_real)["_translations"]  # Django's loaded catalogues
    loaded.pop("zh-hans", None)

    frozen = gc_freeze_setup()

    after: list[object] = []
    assert frozen == gc.get_freeze_count() > 0
    assert not _collected(before)
    assert _collected(after)
    # The catalogues the first requests would load are loaded before the freeze.
    assert "zh-hans" in loaded


@override_settings(MEETNOW_GC_FREEZE=False)
def test_off() -> None:
    before: list[object] = []

    assert gc_freeze_setup() == 0
    assert gc.get_freeze_count() == 0
    assert _collected(before)


@override_settings(MEETNOW_GC_THRESHOLDS=[700, 10, 1000])
def test_thresholds_when_given() -> None:
    gc_freeze_setup()

    assert gc.get_threshold() == (700, 10, 1000)


@override_settings(MEETNOW_GC_THRESHOLDS=[])
def test_thresholds_left_alone_when_empty() -> None:
    before = gc.get_threshold()

    gc_freeze_setup()

    assert gc.get_threshold() == before

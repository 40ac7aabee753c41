"""Devices that run out of memory: the ledger counts the bytes kept, and over capacity is a clear error."""

import pickle

import numpy as np
import pytest

from dsai.errors import DeviceOutOfMemoryError, DsaiError, ParallelConfigError
from dsai.parallel.device import DeviceMemory, DeviceSpec, nbytes


def test_ledger_counts_bytes_of_the_arrays_kept_and_their_peak():
    mem = DeviceMemory("GPU 0", capacity=10_000)
    a, b = np.zeros(100), np.zeros((10, 10))  # 800 bytes each
    assert mem.hold("parameters", "layer 0", [a, b]) == 1600
    mem.hold("activations", (0, 0), [a])
    mem.hold("activations", (1, 0), [a])
    assert mem.used == 3200 and mem.free == 6800
    mem.drop("activations", (0, 0))
    assert mem.bytes("activations") == 800 and mem.count("activations") == 1
    assert mem.peak == 3200 and mem.peak_count("activations") == 2
    mem.hold("parameters", "layer 0", [a])  # replacing frees the old bytes
    assert mem.bytes("parameters") == 800
    assert "used=1,600 of 10,000" in repr(mem)


def test_going_over_capacity_says_which_device_how_much_and_what_to_try():
    mem = DeviceMemory("GPU 3", capacity=1000)
    mem.hold("parameters", 0, np.zeros(100))
    with pytest.raises(DeviceOutOfMemoryError) as info:
        mem.hold("gradients", 0, np.zeros(100))
    err = info.value
    assert isinstance(err, DsaiError) and isinstance(err, MemoryError)
    assert (err.device, err.requested, err.free, err.capacity) == ("GPU 3", 800, 200, 1000)
    text = str(err)
    for part in ("GPU 3", "800 bytes", "200 of 1,000", "stages", "micro-batches", "ZeRO"):
        assert part in text
    assert mem.used == 800  # nothing was taken by the failed request
    again = pickle.loads(pickle.dumps(err))  # it must cross Ray's task boundary intact
    assert str(again) == text and again.free == 200


def test_spec_and_categories_reject_nonsense():
    with pytest.raises(ParallelConfigError, match="memory must be > 0"):
        DeviceSpec(memory=0)
    with pytest.raises(ParallelConfigError, match="FLOP/s"):
        DeviceSpec(flops=-1)
    with pytest.raises(ParallelConfigError, match="unknown memory category"):
        DeviceMemory("GPU 0", 10).hold("weights", 0, np.zeros(1))
    assert nbytes({"a": [np.zeros(2)], "b": (np.zeros(3, dtype=np.float32),)}) == 28

"""Stored sizes are the pickle's, whether or not a small immutable value is shared with readers."""

import pickle

from dsai.mockray.serialization import deserialize, serialize


def test_scalar_sizes_are_their_pickles():
    for x in [b"ok", b"y" * 2000, "text", 7, True, 10**30, -0.0, None]:
        s = serialize(x)
        assert s.nbytes == len(pickle.dumps(x, protocol=5)) == len(s.data)
        assert pickle.loads(s.data) == x and type(deserialize(s)) is type(x)


def test_equal_scalars_of_other_types_are_not_confused():
    assert type(deserialize(serialize(1))) is int
    assert deserialize(serialize(True)) is True
    assert str(deserialize(serialize(-0.0))) == "-0.0"
    assert str(deserialize(serialize(0.0))) == "0.0"

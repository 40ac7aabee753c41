"""Bad input gets an error that names the value and the fix; a diverging run stops with a warning."""

import warnings

import numpy as np
import pytest

from dsai import ps
from dsai.errors import DsaiError
from dsai.models import load_digits


@pytest.mark.parametrize("changes,match", [
    ({"workers": 0}, r"workers must be a positive integer, got 0: use at least 1 worker"),
    ({"shards": 0}, r"shards must be a positive integer, got 0"),
    ({"mode": "ssp", "staleness": -1}, r"staleness bound must be an integer >= 0, got -1"),
    ({"mode": "sync", "staleness": 2}, r"staleness=2 only applies to mode='ssp'"),
    ({"mode": "bsp"}, r"mode must be one of \('sync', 'async', 'ssp'\), got 'bsp'"),
    ({"lr": 0.0}, r"learning rate must be a finite number > 0, got 0.0"),
    ({"lr": float("nan")}, r"learning rate must be a finite number > 0, got nan"),
    ({"momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
    ({"kill_worker": (5, 10)}, r"kill_worker names worker 5, but workers are 0..3"),
    ({"kill_server": (0, 10)}, r"kill_server needs checkpoint_every >= 1"),
    ({"mode": "ssp", "kill_server": (0, 10), "checkpoint_every": 5}, r"kill_server supports mode='sync'"),
    ({"hidden": (0,)}, r"hidden layer sizes must be positive integers, got \(0,\)"),
])
def test_bad_config_is_named(changes, match):
    with pytest.raises(ps.PSConfigError, match=match) as info:
        ps.PSConfig(**changes)
    assert isinstance(info.value, (DsaiError, ValueError))


def test_more_shards_than_parameters(sim_ray):
    with pytest.raises(ps.PSConfigError, match=r"cannot split 650 parameters over 1000 server shards: "
                                               r"use at most 650 shards"):
        ps.train(ps.PSConfig(hidden=(), shards=1000))


class _Tiny:
    def __init__(self, n_train=3, test_cols=64):
        d = load_digits()
        self.x_train, self.y_train = d.x_train[:n_train], d.y_train[:n_train]
        self.x_test, self.y_test = d.x_test[:, :test_cols], d.y_test


def test_more_workers_than_examples(sim_ray):
    with pytest.raises(ps.PSConfigError, match=r"4 workers but only 3 training examples: .*"
                                               r"use at most 3 workers"):
        ps.train(ps.PSConfig(workers=4), data=_Tiny())


def test_mismatched_shapes(sim_ray):
    with pytest.raises(ps.PSConfigError, match=r"test features \(359, 60\) do not match the training "
                                               r"features \(1438, 64\)"):
        ps.train(ps.PSConfig(), data=_Tiny(n_train=None, test_cols=60))
    bad = _Tiny(n_train=None)
    bad.y_train = bad.y_train[:-1]
    with pytest.raises(ps.PSConfigError, match=r"got x \(1438, 64\) and y \(1437,\)"):
        ps.train(ps.PSConfig(), data=bad)


def test_server_rejects_a_gradient_of_the_wrong_shape():
    server = ps.ParameterServer(0, 0, 10, np.zeros(10), mode="async", lr=0.1, momentum=0.0,
                                workers=[0], eval_every=10)
    with pytest.raises(ps.PSConfigError, match=r"server shard 0 owns 10 parameters \[0:10\], got a "
                                               r"gradient of shape \(9,\)"):
        server.push(0, 0, 0, np.zeros(9))


def test_a_learning_rate_that_diverges_stops_training_with_a_warning():
    with pytest.warns(ps.DivergenceWarning, match=r"lr=50.0.*training stopped; lower the learning rate"):
        r = ps.simulate(ps.PSConfig(mode="sync", lr=50.0, steps=100))
    assert r.stopped is not None and "lower the learning rate" in r.stopped
    assert len(r.history) < 400 and "stopped:" in repr(r)


def test_slowdown_names_a_real_worker():
    with pytest.raises(ps.PSConfigError, match=r"slowdown names worker 7, but workers are 0..3"):
        ps.simulate(ps.PSConfig(), slowdown={7: 4.0})
    with pytest.raises(ps.PSConfigError, match=r"slowdown factor of worker 1 must be > 0, got 0"):
        ps.simulate(ps.PSConfig(), slowdown={1: 0})


def test_no_warning_on_a_healthy_run():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ps.simulate(ps.PSConfig(mode="sync", steps=5))

"""An ObjectRef rebuilt from its bytes (`ray.ObjectRef(binary)`), on both backends.

Ray finds an object through its owner, the worker (or driver) that put it
or submitted the task returning it; the owner's address travels with a ref
that is passed or pickled, not with its bare bytes. So a ref rebuilt from
bytes resolves in its owner, and elsewhere never does (measured on Ray 2.60:
`get` with a timeout raises GetTimeoutError, without one it hangs; the
owner's task still running or not). The simulator keeps no owner per
object: there a rebuilt ref resolves wherever it is rebuilt (a documented
difference, docs/ray_behaviour.md).
"""

from __future__ import annotations

import pytest


def test_a_ref_rebuilt_by_its_owner_resolves(ray):
    r = ray.put(5)
    assert ray.get(ray.ObjectRef(r.binary()), timeout=30) == 5

    @ray.remote
    def make():
        return 9

    t = make.remote()
    assert ray.get(ray.ObjectRef(t.binary()), timeout=30) == 9

    @ray.remote
    def own():
        x = ray.put(7)
        return ray.get(ray.ObjectRef(x.binary()), timeout=30)

    assert ray.get(own.remote()) == 7


@pytest.fixture
def rebuild(ray):
    @ray.remote
    def rebuild(h):
        try:
            return ray.get(ray.ObjectRef(bytes.fromhex(h)), timeout=3)
        except ray.exceptions.GetTimeoutError:
            return "timed out"

    return rebuild


@pytest.mark.ray_only(reason="a ref rebuilt from bytes outside its owner has no owner to ask: it never "
                             "resolves on Ray; the simulator keeps no owner per object and resolves it")
def test_a_ref_rebuilt_outside_its_owner_never_resolves_on_ray(ray, rebuild):
    r = ray.put(5)
    assert ray.get(rebuild.remote(r.hex())) == "timed out"


@pytest.mark.sim_only(reason="a ref rebuilt from bytes outside its owner has no owner to ask: it never "
                             "resolves on Ray; the simulator keeps no owner per object and resolves it")
def test_a_ref_rebuilt_outside_its_owner_resolves_on_the_simulator(ray, rebuild):
    r = ray.put(5)
    assert ray.get(rebuild.remote(r.hex())) == 5

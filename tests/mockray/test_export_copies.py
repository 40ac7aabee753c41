"""Function export (dsai/mockray/export.py): one copy per function or class and cluster, the driver's objects untouched."""

from __future__ import annotations

from dsai.mockray import export as export_module
from dsai.mockray import api as ray

LEVEL = 1


def test_a_function_is_pickled_once_per_cluster_and_again_after_a_new_init(sim_ray, monkeypatch):
    global LEVEL
    made = []
    real = export_module.export_copy
    monkeypatch.setattr(export_module, "export_copy", lambda obj, what: made.append(what) or real(obj, what))
    LEVEL = 1

    @ray.remote
    def level():
        return LEVEL

    assert ray.get([level.remote() for _ in range(5)]) == [1] * 5
    LEVEL = 2
    assert ray.get(level.options(num_cpus=2).remote()) == 1
    assert len(made) == 1                      # not per call, not per .options()
    ray.shutdown()
    ray.init(num_cpus=2)                       # a new cluster: exported again, as Ray does
    assert ray.get(level.remote()) == 2
    assert len(made) == 2


def test_exporting_an_actor_class_leaves_the_drivers_class_alone(sim_ray):
    global LEVEL
    LEVEL = 1

    class Base:  # shared, not copied (export.py): it reads no global here
        def level(self):
            return 10

    class Plain(Base):
        def level(self):
            return super().level() * LEVEL  # super() works in the copy

    Remote = ray.remote(Plain)
    a = Remote.remote()
    LEVEL = 3
    assert ray.get(a.level.remote()) == 10     # its own method: the copy's globals
    assert Plain().level() == 30               # the driver's class reads the live globals
    assert Plain.__dict__["level"].__globals__ is globals()


def test_an_actor_of_the_copy_is_an_instance_of_the_shared_classes(sim_ray):
    class Shape:
        pass

    @ray.remote
    class Maker:
        def make(self):
            return Shape()

        def check(self, s):
            return isinstance(s, Shape)

    m = Maker.remote()
    assert isinstance(ray.get(m.make.remote()), Shape)
    assert ray.get(m.check.remote(Shape()))

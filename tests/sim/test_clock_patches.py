"""The simulator's clocks: names bound before it was imported, and the driver's clock across clusters."""

import subprocess
import sys
import textwrap

from dsai.sim import clocks

SCRIPT = textwrap.dedent("""
    from time import sleep, perf_counter   # bound before the simulator is imported (an earlier cell)
    import dsai.mockray as ray

    ray.init(num_cpus=1)

    @ray.remote
    def slow(s):
        sleep(s)
        return s

    ref = slow.remote(1.0)
    t0 = perf_counter()
    sleep(2.0)                               # virtual: the cluster runs meanwhile
    print(ray.wait([ref], timeout=0)[0] == [ref], 2.0 <= perf_counter() - t0 < 3.0)
""")


def test_sleep_imported_by_name_before_the_simulator_is_virtual():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


ALIAS = textwrap.dedent("""
    import time
    WALL = time.perf_counter                 # an alias: a deliberate hold on the real clock
    import dsai.mockray as ray

    ray.init(num_cpus=1)

    @ray.remote
    def slow(s):
        time.sleep(s)
        return s

    t0, v0 = WALL(), time.perf_counter()
    ray.get(slow.remote(100.0))
    print(WALL() - t0 < 50.0, time.perf_counter() - v0 >= 100.0)
""")


def test_an_alias_of_a_real_clock_stays_real():
    out = subprocess.run([sys.executable, "-c", ALIAS], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]


def test_driver_clock_never_goes_back_across_clusters():
    import dsai.mockray as ray

    ray.shutdown()
    ray.init(num_cpus=1)

    @ray.remote
    def slow(s):
        import time
        time.sleep(s)

    before = clocks.virtual_elapsed()
    ray.get(slow.remote(5.0))
    assert clocks.virtual_elapsed() == before + 5.0
    ray.shutdown()
    assert clocks.virtual_elapsed() == before + 5.0  # the old cluster's seconds are kept
    ray.init(num_cpus=1)
    assert clocks.virtual_elapsed() == before + 5.0
    ray.shutdown()


def test_jupyters_own_sleeps_on_the_driver_thread_stay_real():
    """ipykernel sleeps 0.5 ms after every cell on the driver's thread: that must not move the clock."""
    import time

    import dsai.mockray as ray
    import dsai.sim as sim

    ray.shutdown()
    ray.init(num_cpus=1)
    try:
        kernel_code = {"__name__": "ipykernel.kernelbase", "time": time}
        exec("def pause():\n    time.sleep(0.0005)\n", kernel_code)
        before = sim.now()
        kernel_code["pause"]()
        assert sim.now() == before
        time.sleep(0.5)  # the user's own sleep (this module is not infrastructure) is virtual
        assert sim.now() == before + 0.5
    finally:
        ray.shutdown()

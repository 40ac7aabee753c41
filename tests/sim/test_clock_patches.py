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

"""A worker's death ends its processes as SIGKILL does (dsai/sim/hard_kill.py `end_process`):
the program's own code never runs again; only stacks of the simulator's own frames are unwound."""

import threading
import time

import pytest

import dsai.mockray  # noqa: F401  (installs the simulated threading primitives first)
from dsai.errors import SimulationError
from dsai.sim import Simulation
from dsai.sim.hard_kill import end_process, graveyard_size, hard_kill
from dsai.sim.locks import describe_waits

LOCK = threading.Lock()  # (made at import: the patched Lock inside simulated work)


def test_a_stack_with_the_programs_code_is_kept_and_never_run():
    ran = []

    def body():
        try:
            time.sleep(10)
        finally:
            ran.append("finally")

    sim = Simulation()
    proc = sim.spawn(body)
    sim.run(until=1)
    before = graveyard_size()
    end_process(proc)
    sim.run()  # past the end of its sleep: the wake finds it done
    assert (proc.done, proc.killed, ran) == (True, True, [])
    assert graveyard_size() == before + 1
    sim.close()


def test_a_stack_of_only_the_simulators_frames_is_unwound_and_freed():
    sim = Simulation()
    proc = sim.spawn(sim.block, "idle")  # (a worker waiting for its next call: no program code)
    sim.run()
    before = graveyard_size()
    end_process(proc)
    assert (proc.done, proc.killed) == (True, True)
    assert graveyard_size() == before
    sim.close()


def test_a_process_cannot_hard_kill_itself_but_may_end_itself():
    from dsai.sim.process import current_process

    sim = Simulation()
    seen = []

    def body():
        try:
            hard_kill(current_process())
        except SimulationError as e:
            seen.append("refused" if "itself" in str(e) else str(e))
        end_process(current_process())  # raises Killed: unwinds, as a worker's own exit does
        seen.append("not reached")

    proc = sim.spawn(body)
    sim.run()
    assert seen == ["refused"] and proc.killed
    sim.close()


def test_a_killed_waiter_never_takes_the_lock():
    sim = Simulation()
    log = []

    def holder():
        with LOCK:
            time.sleep(1)
        log.append((sim.now(), "holder out"))

    def waiter(name):
        def body():
            with LOCK:
                log.append((sim.now(), name))
        return body

    sim.spawn(holder)
    victim = sim.spawn(waiter("victim"))
    sim.spawn(waiter("next"))
    sim.run(until=0.5)
    assert len(describe_waits(sim)) == 2
    end_process(victim)
    assert len(describe_waits(sim)) == 1  # a dead process waits on nothing
    sim.run()
    assert log == [(1.0, "holder out"), (1.0, "next")]
    assert not LOCK.locked()
    sim.close()


def test_a_lock_whose_only_waiter_was_killed_is_released():
    sim = Simulation()

    def holder():
        with LOCK:
            time.sleep(1)

    def waiter():
        with LOCK:
            pass

    sim.spawn(holder)
    victim = sim.spawn(waiter)
    sim.run(until=0.5)
    end_process(victim)
    sim.run()
    assert not LOCK.locked()
    sim.close()


@pytest.mark.parametrize("n", [1, 7])
def test_the_graveyard_grows_by_one_stack_per_interrupted_process(n):
    """The cost of never unwinding, counted: one kept stack per kill that interrupts the
    program's code, none for a kill of a process waiting in the simulator's own code."""
    sim = Simulation()
    busy = [sim.spawn(lambda: time.sleep(10)) for _ in range(n)]  # (this module's frame: the program's)
    idle = [sim.spawn(sim.block, "idle") for _ in range(n)]
    sim.run(until=1)
    before = graveyard_size()
    for p in busy + idle:
        end_process(p)
    assert graveyard_size() == before + n
    sim.run()
    sim.close()


def test_the_kill_memory_benchmark_counts_four_kept_stacks_per_round():
    import json
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parent.parent.parent / "benchmarks" / "kill_memory.py"
    out = subprocess.run([sys.executable, str(bench), "--rounds", "8", "--json"],
                         capture_output=True, text=True, check=True, timeout=300).stdout
    rows = json.loads(out)["rows"]
    assert [(r["rounds"], r["stacks_kept"]) for r in rows] == [
        (2, 8), (4, 16), (6, 24), (8, 32), ("after shutdown", 32)]


def test_a_lock_held_by_a_killed_process_goes_to_its_waiter():
    """On Ray the lock would have died with its process; here a module-level lock is shared
    by every simulated worker, so its next waiter takes it (the holder's `with` never exits)."""
    sim = Simulation()
    log = []

    def holder():
        with LOCK:
            time.sleep(10)
            log.append("holder done")  # (never: it is killed)

    def waiter():
        with LOCK:
            log.append((sim.now(), "waiter in"))

    victim = sim.spawn(holder)
    sim.spawn(waiter)
    sim.run(until=1)
    end_process(victim)
    sim.run()
    assert log == [(1.0, "waiter in")]
    assert not LOCK.locked()
    sim.close()


def test_a_lock_held_by_a_killed_process_is_taken_over_by_the_next_taker():
    sim = Simulation()
    log = []

    def holder():
        LOCK.acquire()
        time.sleep(10)

    victim = sim.spawn(holder)
    sim.run(until=1)
    end_process(victim)

    def later():
        with LOCK:
            log.append("in")

    sim.spawn(later)
    sim.run()
    assert log == ["in"] and not LOCK.locked()
    # The driver's side too: a lock a killed process left locked does not hang it.
    victim = sim.spawn(holder)
    sim.run(until=sim.now() + 1)
    end_process(victim)
    assert LOCK.acquire(timeout=1)
    LOCK.release()
    sim.close()


def test_a_buried_coroutine_is_not_closed_even_at_exit(tmp_path):
    """The graveyard is never freed: a buried coroutine freed as the interpreter exits would
    be closed, which runs its `finally` (tried: it does, for a plain list)."""
    import subprocess
    import sys
    import textwrap

    script = textwrap.dedent("""
        import asyncio, sys
        from dsai.sim.hard_kill import bury

        async def call(path, open=open):  # (open kept: module globals are gone late at exit)
            try:
                await asyncio.Future()
            finally:
                open(path, "w").close()

        coro = call(sys.argv[1])
        coro.send(None)  # suspended at its await, as a killed actor's call is
        bury([coro])
        del coro
        print("END", flush=True)
    """)
    marker = tmp_path / "finally-ran"
    out = subprocess.run([sys.executable, "-c", script, str(marker)], capture_output=True,
                         text=True, check=True, timeout=120)
    assert out.stdout == "END\n", out.stdout + out.stderr
    assert not marker.exists()

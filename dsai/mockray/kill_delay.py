"""A kill travels through Ray's control plane: calls sent straight to the actor get there first.

`ray.kill(actor, no_restart=False)` does not end the actor where the driver
stands: the request goes to the GCS, which asks the actor's node to kill
its worker, while an actor call goes straight from the caller to the
actor's worker. Measured on Ray 2.60 (this 2-core machine), after three
calls answered 1, 2, 3: `ray.kill(a, no_restart=False)` then
`a.inc.remote()` answered 4 (the old instance) in 8 runs of 9 when the
machine was lightly loaded (the worker's pid was gone 0.03 s to 0.95 s after
the kill), and ActorUnavailableError in the other and in 12 of 12 at a load
average of 13 (the kill overtook the call); never 1 (the restarted
instance). A call made once that first answer was back answered
ActorUnavailableError in 4 runs of 5 (5 in the other); three calls made
right after the kill answered `[4, ActorUnavailableError,
ActorUnavailableError]`, `[4, 5, 6]` or three errors.

The simulator takes the lightly loaded answer. Calls cost no virtual time
here (livelock.py), so the delay is one of order, not of seconds: the kill
reaches the worker once the calls made before the simulation next runs
(before the driver's, or the calling task's, next `get`, `wait` or sleep)
have had their turn at the current instant. Those that end in zero time ran
on the old instance (the 4 above); a call still running then (it sleeps, or
waits) gets ActorUnavailableError, or is retried if `max_task_retries`
allows. The first call made after the kill landed, if no call found the
worker gone, gets ActorUnavailableError too (Ray's caller still held the old
worker's address: 0.2 s to 6 s after the kill, 8 runs of 8); later calls
reach the restarted instance. A delay of some virtual milliseconds instead
would let a driver that polls the actor in a loop until it restarts see the
old instance for ever (the clock never moves between zero-time calls:
462,406 calls in 20 s, tried).
`no_restart=True` acts at once (Ray 2.60: a call made right after it
answered ActorDiedError in 6 runs of 6, one made before it and not yet
answered in 2 of 3),
and an actor's kill of itself comes after its current call.
"""

from __future__ import annotations

from typing import Any

from dsai.mockray.exceptions import ActorUnavailableError

__all__ = ["kill_later", "UNAVAILABLE"]

UNAVAILABLE = "IOError: The actor was restarted"  # (Ray 2.60's words)


def kill_later(rt: Any, state: Any, reason: str) -> None:
    """`state`'s worker dies (and restarts if it may) once the calls made so far had their turn."""
    incarnation = state.num_restarts
    made: list[Any] = []  # the calls made before the simulation ran again, once known
    turns = [0]

    def land() -> None:
        if state.state == "DEAD" or state.num_restarts != incarnation:
            return  # (it died, or restarted for another reason, meanwhile: this kill is spent)
        if turns[0] == 0:
            made.extend(t for t in (*state.running.values(), *state.mailbox) if not t.done)
        # Each turn lets the events of this instant run first (or, while a call's spec crosses
        # the network, waits one latency: the call goes straight there, the kill by way of the
        # GCS). Bounded: a call that waits for something later (a sleep, a get) is still
        # running when the kill lands, and one behind it holds nothing back.
        if turns[0] <= 4 * len(made) and not all(t.done for t in made):
            turns[0] += 1
            travelling = [t for t in made if t.state == "sending" and state.node is not None]
            if travelling:
                net = rt.sim.network
                there = state.node.node.id
                rt.sim.loop.call_later(max(net.latency(t.caller_node, there) for t in travelling), land)
            else:
                rt.sim.loop.call_soon(land)
            return
        stale = state.state == "ALIVE" and not state.running
        state.crash(reason, allow_restart=True, unavailable=UNAVAILABLE)
        if stale and state.state != "DEAD":
            # No call found the old worker gone: the next one made will (Ray's caller still
            # holds the old worker's address: measured 0.2 s to 6 s after the kill, 8 of 8).
            state.stale_call = ActorUnavailableError(f"The actor is temporarily unavailable: {UNAVAILABLE}",
                                                     state.id)

    rt.sim.loop.call_soon(land)

"""The timeline: one Chrome-trace event per task attempt, as `ray.timeline()` returns them.

Each attempt's end (completion.py) appends a tuple of strings and numbers to
`Runtime.timeline_events` (cheap to keep: the garbage collector stops
scanning it); `timeline()` turns them into the dicts Perfetto and
`dsai.viz` read: `ph: "X"`, `ts`/`dur` in microseconds, `pid` the node's IP,
`tid` the worker.
"""

from __future__ import annotations

from dsai.mockray.task import JOB_ID

__all__ = ["Timeline"]


class Timeline:
    """`ray.timeline()` from the recorded attempts."""

    def timeline(self) -> list[dict]:
        """Chrome-trace events, one per task attempt, as `ray.timeline()` returns them."""
        out = []
        for name, task_id, actor_id, node, worker, start, end, attempt, status in self.timeline_events:
            ns = self.nodes[node]
            task_id = task_id.hex()
            out.append({
                "cat": "task::" + name, "name": "task::" + name, "pid": ns.ip,
                "tid": "worker:" + ns.worker_id(worker), "ts": start * 1e6,
                "dur": (end - start) * 1e6, "ph": "X",
                "cname": "rail_response" if status == "ok" else "terrible",
                "args": {"task_id": task_id, "job_id": JOB_ID.hex(), "attempt_number": attempt,
                         "func_or_class_name": name, "actor_id": actor_id, "node": ns.name,
                         "status": status},
            })
        return out

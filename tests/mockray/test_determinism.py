"""Same program, same seed: the same results and a byte-identical timeline."""

import json
import time

import dsai.mockray as ray
import dsai.sim as sim
from dsai.mockray.runtime import runtime


def program(seed):
    ray.shutdown()
    ray.init(num_cpus=2, seed=seed, network={"jitter": 0.01})
    rt = runtime()
    for _ in range(2):
        rt.add_node(2)

    @ray.remote
    def work(i):
        time.sleep(0.1 * (i % 3) + 0.05)
        return i * i, ray.get_runtime_context().get_node_id()

    @ray.remote
    class Acc:
        def __init__(self):
            self.total = 0

        def add(self, x):
            self.total += x[0]
            return self.total

    acc = Acc.remote()
    refs = [work.remote(i) for i in range(20)]
    sim.at(0.2, sim.kill_node, "node-2")
    done = []
    pending = refs
    while pending:
        ready, pending = ray.wait(pending, num_returns=1)
        done.append(ray.get(acc.add.remote(ray.get(ready[0]))))
    out = json.dumps({"results": ray.get(refs), "running": done, "now": sim.now(),
                      "timeline": ray.timeline()}, sort_keys=True)
    ray.shutdown()
    return out


def test_same_seed_same_bytes():
    a, b = program(3), program(3)
    assert a == b
    assert json.loads(a)["running"][-1] == sum(i * i for i in range(20))


def test_seed_changes_node_ids_only_where_randomness_is_used():
    a, c = json.loads(program(3)), json.loads(program(4))
    assert [r[0] for r in a["results"]] == [r[0] for r in c["results"]]
    assert a["results"][0][1] != c["results"][0][1]  # node IDs come from the seed

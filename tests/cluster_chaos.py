#!/usr/bin/env python3
"""Faults against a local cluster's leases, and the one property they must
never break: two nodes never count on one shard at once.

    tests/cluster_chaos.py OMSD [--nodes 3] [--seconds 20] [--seed N]
                           [--shards 32] [--ttl 1s]

Starts a cluster with tools/cluster.sh, then for SECONDS injects a random
fault every 0.5-2 s into one node at a time: SIGKILL (started again 1-3 s
later), SIGSTOP (SIGCONT 0.3-3 s later: often past the TTL), or SIGTERM
(started again a moment later). Meanwhile it reads every running node's GET
/v1/cluster every 100 ms and records each hold a node shows: shard, node,
epoch, and the interval the node counts on it (heldSinceMonotonicMs ..
validUntilMonotonicMs, one clock for every process of this machine), cut
short where the node let go first: a hand-back (its view's handedBack, and
the cluster.handing_back line it logs before asking the table, which a
node killed right after still leaves), or a SIGTERM. Then it checks:
  - no two holds of one shard overlap in time (by different nodes, or one
    node's under two epochs);
  - a shard's epochs only grow, from one hold to the next;
  - once the faults stop, every shard is held again by a running node, as
    every node sees it, within 30 s.
Prints one JSON line (faults injected, polls, holds seen, violations) and
exits 1 on any violation, 0 otherwise.
"""
import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCRIPT = os.path.join(ROOT, "tools", "cluster.sh")


class Cluster:
    def __init__(self, omsd, nodes, flags, links=False):
        self.dir = tempfile.mktemp(prefix="oms-chaos-", dir="/tmp")
        self.env = dict(os.environ, OMS_CLUSTER_DIR=self.dir, OMSD=omsd,
                        OMS_CLUSTER_LINKS="1" if links else "0")
        self.nodes = nodes
        self.run("up", str(nodes), *flags)
        with open(os.path.join(self.dir, "admin.token")) as f:
            self.token = f.read().strip()
        self.ports = {}
        for i in range(1, nodes + 1):
            self.read_port(i)
        self.left = set()  # nodes stopped for good

    def read_port(self, i):
        with open(os.path.join(self.dir, "n%d" % i, "port")) as f:
            self.ports[i] = int(f.read().strip())

    def live(self):
        """The nodes that have not left (running or under a fault)."""
        return [i for i in range(1, self.nodes + 1) if i not in self.left]

    def add(self):
        """A node that never ran joins; its number."""
        self.run("add")
        self.nodes += 1
        self.read_port(self.nodes)
        return self.nodes

    def leave(self, i):
        """Node i stops (SIGTERM: it hands its shards back) for good."""
        self.run("stop", str(i))
        self.left.add(i)

    def run(self, *args):
        r = subprocess.run(["bash", SCRIPT, *args], env=self.env,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           text=True)
        if r.returncode != 0:
            sys.stderr.write(r.stdout)
            raise RuntimeError("tools/cluster.sh %s failed (exit %d)" %
                               (" ".join(args), r.returncode))

    def view(self, i):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/v1/cluster?leases=none" % self.ports[i],
            headers={"Authorization": "Bearer " + self.token})
        try:
            with urllib.request.urlopen(req, timeout=1) as r:
                return json.loads(r.read())
        except Exception:
            return None

    def down(self):
        subprocess.run(["bash", SCRIPT, "down"], env=self.env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# What ends a fault (a node killed or stopped: started again).
UNDO = {"pause": "resume", "pg-cut": "pg-heal", "pg-freeze": "pg-heal",
        "link-cut": "link-heal", "link-freeze": "link-heal"}
LINK_FAULTS = ["pg-cut", "pg-freeze", "link-cut", "link-freeze"]


class Faults:
    """One random fault at a time into one node of `c`, every 0.5-2 s:
    SIGKILL (started again 1-3 s later), SIGSTOP (SIGCONT 0.3-3 s later)
    or SIGTERM (started again a moment later), and with "pg-restart" among
    `kinds` PostgreSQL stopped at once and started again. With the links of
    a cluster made with links=True: "pg-cut" and "pg-freeze" (the node's
    link to PostgreSQL reset and refused, or passing no byte) and
    "link-cut" and "link-freeze" (the other nodes' links to its region),
    healed 1-4 s later. With "join" and "leave": a node that never ran
    joins (at most `max_nodes` in all), or a node stops for good (SIGTERM;
    two at least stay). `on_stop(node_id)` is told of each SIGTERM before
    it is sent; `on_join(i)` and `on_leave(i)` of the nodes that come and
    go."""

    def __init__(self, c, rng, on_stop=None, kinds=("kill", "pause", "stop"),
                 on_join=None, on_leave=None, max_nodes=None):
        self.c = c
        self.rng = rng
        self.on_stop = on_stop
        self.on_join = on_join
        self.on_leave = on_leave
        self.max_nodes = max_nodes if max_nodes is not None else c.nodes + 2
        self.kinds = list(kinds)
        self.injected = {k: 0 for k in self.kinds}
        # node -> (what, when to undo): a node under a fault
        self.pending = {}
        self.next_fault = time.monotonic() + rng.uniform(0.5, 2)

    def tick(self):
        """Undoes what is due, and injects the next fault when due."""
        now = time.monotonic()
        for i, (what, when) in list(self.pending.items()):
            if now >= when:
                self.c.run(UNDO.get(what, "start"), str(i))
                del self.pending[i]
        if now >= self.next_fault and not self.pending:
            live = self.c.live()
            i = self.rng.choice(live)
            what = self.rng.choice(self.kinds)
            if what in ("join", "leave"):
                self.next_fault = now + self.rng.uniform(0.5, 2)
                if what == "join" and self.c.nodes < self.max_nodes:
                    self.injected[what] += 1
                    joined = self.c.add()
                    if self.on_join:
                        self.on_join(joined)
                elif what == "leave" and len(live) > 2:
                    self.injected[what] += 1
                    if self.on_leave:
                        self.on_leave(i)
                    if self.on_stop:
                        self.on_stop("n%d" % i)
                    self.c.leave(i)
                return
            self.injected[what] += 1
            if what == "pg-restart":
                # PostgreSQL under every node, crashed and started again.
                self.c.run("pg-restart")
                self.next_fault = now + self.rng.uniform(0.5, 2)
                return
            if what == "stop" and self.on_stop:
                self.on_stop("n%d" % i)
            self.c.run(what, str(i))
            self.pending[i] = (what, now + {
                "kill": self.rng.uniform(1, 3),
                "pause": self.rng.uniform(0.3, 3),
                "stop": 0.2}.get(what, self.rng.uniform(1, 4)))
            self.next_fault = now + self.rng.uniform(0.5, 2)

    def finish(self):
        """Every node back."""
        for i, (what, _) in list(self.pending.items()):
            self.c.run(UNDO.get(what, "start"), str(i))
        self.pending.clear()


def run_arguments(shards):
    """The arguments every fault run takes (omsd, --nodes, --seconds,
    --seed, --shards, --ttl), on a parser the caller may add to."""
    p = argparse.ArgumentParser()
    p.add_argument("omsd")
    p.add_argument("--nodes", type=int, default=3)
    p.add_argument("--seconds", type=float, default=20)
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--shards", type=int, default=shards)
    p.add_argument("--ttl", default="1s")
    return p


def seeded(a):
    """The run's seed (the one given, or a fresh one) and its generator."""
    seed = a.seed if a.seed is not None else random.randrange(1 << 30)
    return seed, random.Random(seed)


def main():
    a = run_arguments(32).parse_args()
    seed, rng = seeded(a)
    c = Cluster(a.omsd, a.nodes,
                ["--cluster-shards", str(a.shards), "--lease-ttl", a.ttl])
    holds = {}  # (shard, node, epoch) -> [since, until]
    handbacks = {}  # (shard, node, epoch) -> when the node let go of it
    stops = {}  # node id -> monotonic ms of each SIGTERM sent to it
    polls = 0
    # The node hands back after a SIGTERM: it counts on nothing from then.
    faults = Faults(c, rng, lambda node: stops.setdefault(node, []).append(
        int(time.monotonic() * 1000)))
    violations = []
    try:
        def poll():
            nonlocal polls
            for i in range(1, a.nodes + 1):
                if i in faults.pending:
                    continue  # killed, stopped or frozen: nothing to read
                v = c.view(i)
                if v is None:
                    continue
                polls += 1
                for h in v["handedBack"]:
                    key = (h["shard"], v["node"], h["epoch"])
                    handbacks[key] = min(handbacks.get(key, h["atMonotonicMs"]),
                                         h["atMonotonicMs"])
                for o in v["owned"]:
                    key = (o["shard"], v["node"], o["epoch"])
                    since = o["heldSinceMonotonicMs"]
                    until = o["validUntilMonotonicMs"]
                    h = holds.setdefault(key, [since, until])
                    h[0] = min(h[0], since)
                    h[1] = max(h[1], until)

        end = time.monotonic() + a.seconds
        while time.monotonic() < end:
            faults.tick()
            poll()
            time.sleep(0.1)
        faults.finish()
        # Liveness: every shard held again, every node agreeing.
        settled = False
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not settled:
            poll()
            views = [c.view(i) for i in range(1, a.nodes + 1)]
            if all(v is not None for v in views):
                total = sum(len(v["owned"]) for v in views)
                settled = total == a.shards and all(
                    all(o["validForMs"] > 0 for o in v["owned"]) for v in views)
            time.sleep(0.2)
        if not settled:
            violations.append("the shards were not all held again within "
                              "30 s of the last fault")
    finally:
        # Each node logs a hand-back before it asks the table: read them
        # all, also those of a node killed before a poll saw them.
        for i in range(1, a.nodes + 1):
            try:
                with open(os.path.join(c.dir, "n%d" % i, "omsd.log")) as f:
                    for line in f:
                        if "event=cluster.handing_back " not in line:
                            continue
                        fields = dict(kv.split("=", 1) for kv in
                                      line.split() if "=" in kv)
                        at = int(fields["at_monotonic_ms"])
                        for item in fields["shards"].split(","):
                            shard, epoch = item.split(":")
                            key = (int(shard), "n%d" % i, int(epoch))
                            handbacks[key] = min(handbacks.get(key, at), at)
            except OSError:
                pass
        c.down()

    # A hold ends when its validity does, or earlier when the node let go:
    # a hand-back it recorded, or a SIGTERM (it hands back after it).
    by_shard = {}
    for key, (since, until) in holds.items():
        shard, node, epoch = key
        end = min(until, handbacks.get(key, until))
        for t in stops.get(node, []):
            if t >= since:
                end = min(end, t)
        by_shard.setdefault(shard, []).append((since, end, node, epoch))
    for shard, hs in sorted(by_shard.items()):
        hs.sort()
        for prev, cur in zip(hs, hs[1:]):
            if cur[0] < prev[1]:
                violations.append(
                    "shard %d: %s (epoch %d) counted on it until %d, %s "
                    "(epoch %d) from %d" % (shard, prev[2], prev[3], prev[1],
                                            cur[2], cur[3], cur[0]))
            if cur[3] <= prev[3]:
                violations.append(
                    "shard %d: epoch %d (%s) after epoch %d (%s)" %
                    (shard, cur[3], cur[2], prev[3], prev[2]))
    print(json.dumps({"bench": "cluster_chaos", "seed": seed,
                      "nodes": a.nodes, "seconds": a.seconds,
                      "shards": a.shards, "ttl": a.ttl,
                      "faults": faults.injected,
                      "polls": polls, "holds_seen": len(holds),
                      "violations": violations[:20],
                      "violation_count": len(violations)}))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())

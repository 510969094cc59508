#!/usr/bin/env python3
"""What an order across shards costs, over HTTP (docs/cluster.md, "Orders
across shards"): starts a local 2-node cluster (tools/cluster.sh, its own
PostgreSQL, regions on loopback) and, per round, places two-line orders at
n1 from CLIENTS closed-loop clients for SECONDS each, back to back:

  one shard        both lines on one shard n1 serves (one commit)
  two shards       the second line on another shard n1 serves (its hold
                   changed and journaled by that shard's SKU actor: a
                   second commit)
  two nodes        the second line on a shard n2 serves (asked through
                   n2's region, journaled by n2)

Prints one JSON line per run (orders/s, p50/p99 ms, errors) and, per
round, each workload's orders/s over "one shard" (the machine is shared:
only ratios within a round mean anything).

    bench/cluster-across.py [--rounds 3] [--seconds 5] [--clients 8]
"""
import argparse
import http.client
import json
import os
import subprocess
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARDS = 16


def shard_of(sku):
    """FNV-1a of the SKU, modulo the shards, as omsd."""
    h = 0xcbf29ce484222325
    for b in sku.encode():
        h = ((h ^ b) * 0x100000001b3) % (1 << 64)
    return h % SHARDS


class Node:
    def __init__(self, port, token):
        self.port = port
        self.token = token

    def call(self, method, path, body=None, conn=None):
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port,
                                                  timeout=10)
        try:
            conn.request(method, path,
                         body=json.dumps(body) if body is not None else None,
                         headers={"Authorization": "Bearer " + self.token,
                                  "Content-Type": "application/json"})
            r = conn.getresponse()
            data = r.read()
            return r.status, json.loads(data) if data else None
        finally:
            if own:
                conn.close()


def run(node, token, customer, lines, clients, seconds):
    stop = time.monotonic() + seconds
    lat = []
    errors = [0]
    lock = threading.Lock()
    body = {"customerId": customer,
            "items": [{"sku": s, "quantity": 1} for s in lines],
            "address": {"line1": "1 MG Road", "city": "Pune",
                        "postalCode": "411001", "country": "IN"}}

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", node.port, timeout=10)
        mine = []
        bad = 0
        me = Node(node.port, token)
        while time.monotonic() < stop:
            t = time.monotonic()
            try:
                status, _ = me.call("POST", "/v1/orders", body, conn)
            except Exception:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", node.port,
                                                  timeout=10)
                status = None
            if status == 201:
                mine.append(time.monotonic() - t)
            else:
                bad += 1
        conn.close()
        with lock:
            lat.extend(mine)
            errors[0] += bad

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.monotonic() - t0
    lat.sort()

    def pct(p):
        return round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2) \
            if lat else None
    return {"ordersPerSecond": round(len(lat) / took, 1), "p50": pct(0.5),
            "p99": pct(0.99), "errors": errors[0]}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--clients", type=int, default=8)
    a = p.parse_args()
    env = dict(os.environ)
    env["OMS_CLUSTER_DIR"] = tempfile.mktemp(prefix="oms-across-")
    d = env["OMS_CLUSTER_DIR"]

    def cluster(*args):
        subprocess.run(["bash", os.path.join(ROOT, "tools", "cluster.sh")] +
                       list(args), env=env, check=True,
                       stdout=subprocess.DEVNULL)
    cluster("up", "2", "--cluster-shards", str(SHARDS), "--lease-ttl", "3s")
    try:
        token = open(os.path.join(d, "admin.token")).read().strip()
        nodes = {i: Node(int(open(os.path.join(d, "n%d" % i, "port")).read()),
                         token) for i in (1, 2)}
        served = {}
        for _ in range(300):
            views = {i: n.call("GET", "/v1/cluster?leases=none")[1]
                     for i, n in nodes.items()}
            served = {i: {s["shard"] for s in v["served"]}
                      for i, v in views.items() if v}
            if len(served) == 2 and all(len(s) == SHARDS // 2
                                        for s in served.values()):
                break
            time.sleep(0.2)
        # A1 and A2 on one shard of n1's, B on another of n1's, C on n2's.
        k = 0
        first = {}
        while True:
            sku = "ACR%d-%d" % (os.getpid(), k)
            k += 1
            s = shard_of(sku)
            if s in served[1]:
                if "A1" not in first:
                    first["A1"] = sku
                elif "A2" not in first and s == shard_of(first["A1"]):
                    first["A2"] = sku
                elif "B" not in first and s != shard_of(first["A1"]):
                    first["B"] = sku
            elif "C" not in first:
                first["C"] = sku
            if len(first) == 4:
                break
        for name, sku in first.items():
            owner = nodes[2] if name == "C" else nodes[1]
            for _ in range(100):
                status, out = owner.call(
                    "POST", "/v1/inventory/%s/receipts" % sku,
                    {"quantity": 1_000_000, "unitPrice": 100})
                if status == 200:
                    break
                time.sleep(0.1)
            else:
                raise RuntimeError("receipt of %s: %s %s" % (sku, status, out))
        status, out = nodes[1].call("POST", "/v1/customers", {"name": "bench"})
        customer, ctoken = out["customerId"], out["token"]
        workloads = [("one shard", [first["A1"], first["A2"]]),
                     ("two shards", [first["A1"], first["B"]]),
                     ("two nodes", [first["A1"], first["C"]])]
        print("cluster-across: 2 nodes, %d shards, %d clients, %g s per run; "
              "SKUs %s" % (SHARDS, a.clients, a.seconds, json.dumps(first)))
        for r in range(1, a.rounds + 1):
            got = {}
            for name, lines in workloads:
                res = run(nodes[1], ctoken, customer, lines, a.clients,
                          a.seconds)
                got[name] = res
                print(json.dumps(dict(round=r, run=name, **res)))
            base = got["one shard"]["ordersPerSecond"] or 1
            print(json.dumps({"round": r, "overOneShard": {
                name: round(got[name]["ordersPerSecond"] / base, 2)
                for name, _ in workloads}}))
    finally:
        cluster("down")


if __name__ == "__main__":
    main()

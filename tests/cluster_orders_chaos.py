#!/usr/bin/env python3
"""Orders against a local cluster under random faults, checked afterwards
on PostgreSQL's own state: no unit is ever granted twice.

    tests/cluster_orders_chaos.py OMSD [--nodes 3] [--seconds 20]
        [--seed N] [--shards 16] [--ttl 1s] [--skus 12] [--stock 20]
        [--clients 6] [--pg-restarts] [--link-faults] [--joins]
        [--external [--wms-sim PATH]]

Starts a cluster with tools/cluster.sh (one shared store in its
PostgreSQL), receives STOCK units of each of SKUS SKUs, registers a
customer per client, then for SECONDS runs CLIENTS threads that place
orders of 1-3 units of a random SKU, or of two SKUs (most often on two
shards, held by two nodes: an order across shards), at a random node
(each with its own Idempotency-Key, kept across the retries of that
order), and
confirm or cancel some of the orders placed (cancelled units are sold
again). A node that answers 421 NOT_OWNER names
the owner: the client asks it next (or another node, after a moment).
Every operation is recorded as ok, failed (a definite refusal: nothing was
changed) or unknown (no answer, or the node went away mid-request).
Meanwhile a random fault hits one node every 0.5-2 s: SIGKILL (started
again 1-3 s later), SIGSTOP (SIGCONT 0.3-3 s later: often past the lease
TTL, so its shards move while it sleeps and its in-flight commits are
refused by the fence when it wakes) or SIGTERM (started again); with
--pg-restarts, also PostgreSQL stopped at once (as a crash) and started
again under every node, which must go on without a restart of its own;
with --link-faults, also one node's link to PostgreSQL cut or frozen (it
loses its leases, the others take its shards, its commits under way are
refused or settled) or the other nodes' links to its region cut or frozen
(ownership stays; requests forwarded to it fail cleanly), healed 1-4 s
later; with --joins, also a node that never ran joining (the others hand
it its share of the shards; two such at most) or a node leaving for good
(SIGTERM: it hands its shards back; two nodes at least stay).

Then, with every node back and every shard served, it checks on
PostgreSQL (the store the nodes share):
  - per SKU, the units the live orders hold (holds table) never exceed
    the units received, nor the units on hand;
  - per SKU, the units held equal the units the orders not cancelled were
    granted (order lines): no hold without an order, no order without its
    hold (waited for up to 60 s: a hold on another shard than its order's
    follows the order's record, and one whose order never came to be
    lapses after the hold TTL and the cross-shard grace);
  - replaying the event log in its order (the commits' order across
    nodes), no SKU ever has fewer than 0 units available (received minus
    reserved plus released), and no order releases more of a SKU than it
    reserved: a grant made from a stale copy of the stock (a node that
    lost the shard and committed anyway) shows here;
  - the fences' record (oms_log_epochs: each commit's shards, the epoch
    of the lease it was fenced under, the writer, the log numbers): one
    writer per epoch of a shard, and a shard's epochs one after the other
    in the log, never interleaved nor going back;
  - every order acknowledged is there, in the state acknowledged or a
    later legal one (CREATED -> CONFIRMED -> CANCELLED);
  - no Idempotency-Key made two orders (a retry at another node while the
    first attempt was still under way);
  - every node's GET /v1/audit is clean.

With --external, the EXTERNAL seller too: wms-sim (PATH, default the one
beside OMSD) on a free loopback port, seeded with STOCK units of each of
EXT-0..EXT-2, its batch job an hour away (the snapshot the nodes read
never moves: our own count alone keeps them within its stock), and every
node given its URL (the duty shard's holder serves the EXTERNAL seller).
A quarter of the orders placed are EXTERNAL ones (1-3 units of one of its
SKUs), confirmed or cancelled like the others. The checks above cover
them (replayed from STOCK units each: the WMS's, received nowhere in our
log; acknowledged ones there in a legal state; the audits), and once the
WMS is in step with the store (waited for, within 60 s):
  - per EXTERNAL SKU, the units of the EXTERNAL orders not cancelled never
    exceed STOCK, and at the WMS reserved + blocked never exceed on hand;
  - each line of an EXTERNAL order in the store has its reservation at the
    WMS (ORDER:SKU) in the state the order's status wants (CREATED:
    RESERVED, CONFIRMED: BLOCKED, CANCELLED: RELEASED or none), of the
    line's units; and the WMS holds no other reservation, nor units
    reserved or blocked for none;
  - no EXTERNAL order was cancelled because the WMS refused its
    reservation (nothing else changes its stock: a refusal is a unit we
    counted that it did not have).
Prints one JSON line (operations by outcome, faults, violations; with
--external, its own figures under "external") and exits 1 on any
violation.
"""
import json
import os
import shutil
import random
import socket
import subprocess
import tempfile
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cluster_chaos import LINK_FAULTS, Cluster, Faults, run_arguments, seeded  # noqa: E402


def call(base, method, path, token, body=None, key=None, timeout=3):
    """(status, json or None); status None when no answer came."""
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    if key:
        headers["Idempotency-Key"] = key
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, headers=headers,
                                 method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        try:
            return e.code, json.loads(e.read() or b"null")
        except ValueError:
            return e.code, None
    except Exception:
        return None, None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class WmsSim:
    """wms-sim on a free loopback port, seeded with STOCK units of each of
    `skus`, for the EXTERNAL seller. Its batch job runs an hour from now, so
    the snapshot the nodes read shows the seed all run long: only our own
    count of the units granted keeps them from asking it for units it does
    not have. No rate limit of its own (omsd keeps to --wms-rate anyway),
    so the checks' reads are never refused. Its log (every request, at
    debug level) is in `log`."""

    def __init__(self, path, skus, stock):
        self.dir = tempfile.mkdtemp(prefix="oms-chaos-wms-", dir="/tmp")
        self.log = os.path.join(self.dir, "wms-sim.log")
        seed = os.path.join(self.dir, "seed.json")
        with open(seed, "w") as f:
            json.dump({"skus": [{"sku": sku, "onHand": stock,
                                 "unitPrice": 100} for sku in skus]}, f)
        self.proc = None
        # A port found free may be taken before wms-sim binds it: then it
        # exits at once, and another port is tried.
        for _ in range(5):
            self.port = free_port()
            self.url = "http://127.0.0.1:%d" % self.port
            with open(self.log, "a") as log:
                self.proc = subprocess.Popen(
                    [path, "--port", str(self.port), "--seed-file", seed,
                     "--batch-interval", "1h", "--rate-limit", "0",
                     "--log-level", "debug"],
                    stdin=subprocess.DEVNULL, stdout=log,
                    stderr=subprocess.STDOUT)
            if self.serving():
                return
        self.stop()
        raise RuntimeError("wms-sim did not start; its log: %s" % self.log)

    def serving(self):
        """Waits (30 s at most) for /healthz; False if it exited first."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            if self.get("/healthz")[0] == 200:
                return True
            time.sleep(0.1)
        return False

    def get(self, path):
        """(status, json or None); status None when no answer came."""
        return call(self.url, "GET", path, None, timeout=10)

    def state(self):
        status, out = self.get("/admin/state")
        if status != 200:
            raise RuntimeError("wms-sim's /admin/state: %s" % status)
        return out

    def reservation(self, order, sku):
        """The WMS's reservation ORDER:SKU, or None if it has none."""
        status, out = self.get("/reservations/%s:%s" % (order, sku))
        if status == 404 and (out or {}).get("error", {}).get(
                "code") == "UNKNOWN_RESERVATION":
            return None
        if status != 200:
            raise RuntimeError("wms-sim's reservation %s:%s: %s" %
                               (order, sku, status))
        return out

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def remove(self):
        shutil.rmtree(self.dir, ignore_errors=True)


class Harness:
    def __init__(self, c, rng, external_skus=()):
        self.c = c
        self.rng = rng
        self.lock = threading.Lock()
        self.urls = {i: "http://127.0.0.1:%d" % p for i, p in c.ports.items()}
        self.ops = {"ok": 0, "failed": 0, "unknown": 0}
        self.by_code = {}
        self.acked = {}  # order id -> ([(sku, qty)], status acknowledged)
        # With --external: the EXTERNAL seller's SKUs, the operations on
        # its orders (also counted in ops) and the orders acknowledged.
        self.external_skus = list(external_skus)
        self.external_ops = {"ok": 0, "failed": 0, "unknown": 0}
        self.external_acked = set()
        self.stop = threading.Event()

    def node_url(self, rng):
        with self.lock:
            return self.urls[rng.choice(sorted(self.urls))]

    def joined(self, i):
        with self.lock:
            self.urls[i] = "http://127.0.0.1:%d" % self.c.ports[i]

    def leaving(self, i):
        with self.lock:
            del self.urls[i]

    def routed(self, rng, method, path, token, body=None, key=None,
               deadline_s=6):
        """Asks nodes until one that serves the shard answers (following
        NOT_OWNER's ownerHttp), or the deadline: (status, body), status
        None when the outcome is unknown."""
        url = self.node_url(rng)
        end = time.monotonic() + deadline_s
        unknown = False
        status, out = None, None
        while time.monotonic() < end:
            status, out = call(url, method, path, token, body, key)
            if status is None or status >= 500:
                # No answer, or the node could not tell (a commit may have
                # landed): unknown unless a retry with the same key tells.
                unknown = True
                url = self.node_url(rng)
                time.sleep(0.1)
                continue
            if status == 421:
                hint = (out or {}).get("error", {}).get("details", {})
                url = hint.get("ownerHttp") or self.node_url(rng)
                time.sleep(0.05)
                continue
            return status, out
        return (None, out) if unknown or status is None else (status, out)

    def record(self, outcome, code, external=False):
        with self.lock:
            self.ops[outcome] += 1
            if external:
                self.external_ops[outcome] += 1
                code = "external_" + code
            self.by_code[code] = self.by_code.get(code, 0) + 1

    def client(self, seed, customer, token, skus):
        rng = random.Random(seed)
        mine = []
        while not self.stop.is_set():
            r = rng.random()
            if mine and r < 0.45:
                # Confirm (admin) or cancel (the customer) one of its
                # orders: cancelled units are sold again.
                order = mine.pop(rng.randrange(len(mine)))
                if self.change(rng, token, order, cancel=r < 0.25):
                    mine.append(order)  # confirmed: may be cancelled later
                continue
            # With --external, a quarter of the orders placed are the
            # EXTERNAL seller's (one line: an order has one seller).
            if self.external_skus and rng.random() < 0.25:
                lines = [(rng.choice(self.external_skus), rng.randint(1, 3))]
                seller = "EXTERNAL"
            else:
                lines = [(sku, rng.randint(1, 3)) for sku in
                         rng.sample(skus, 2 if rng.random() < 0.35 else 1)]
                seller = None
            order = self.place(rng, customer, token, lines, seller)
            if order:
                mine.append(order)

    def change(self, rng, token, order, cancel):
        """Confirms or cancels `order`, recorded; True if it was
        confirmed."""
        what = "cancel" if cancel else "confirm"
        external = order in self.external_acked
        status, out = self.routed(
            rng, "POST", "/v1/orders/%s/%s" % (order, what),
            token if cancel else self.c.token, {})
        if status == 200:
            with self.lock:
                lines, _ = self.acked[order]
                self.acked[order] = (
                    lines, "CANCELLED" if cancel else "CONFIRMED")
            self.record("ok", "cancelled" if cancel else "confirmed",
                        external)
            return not cancel
        if status is None:
            self.record("unknown", what + "_unknown", external)
        else:
            self.record("failed", (out or {}).get("error", {})
                        .get("code", str(status)), external)
        return False

    def place(self, rng, customer, token, lines, seller=None):
        """Places an order of `lines` ([(sku, qty)]; of `seller`, ours if
        None) under an Idempotency-Key of its own, recorded; its id if it
        was acknowledged."""
        key = str(uuid.UUID(int=rng.getrandbits(128)))
        items = [{"sku": sku, "quantity": qty} for sku, qty in lines]
        if seller:
            for item in items:
                item["seller"] = seller
        body = {"customerId": customer, "items": items,
                "address": {"line1": "1 MG Road", "city": "Pune",
                            "postalCode": "411001", "country": "IN"}}
        external = seller == "EXTERNAL"
        status, out = self.routed(rng, "POST", "/v1/orders", token, body,
                                  key)
        if status == 201:
            with self.lock:
                self.acked[out["id"]] = (lines, "CREATED")
                if external:
                    self.external_acked.add(out["id"])
            self.record("ok", "created", external)
            return out["id"]
        if status is None:
            self.record("unknown", "create_unknown", external)
        else:
            self.record("failed", (out or {}).get("error", {})
                        .get("code", str(status)), external)
        return None


def psql(c, sql):
    conninfo = "host=%s/pg port=%s user=oms dbname=postgres" % (
        c.dir, open(os.path.join(c.dir, "pg.port")).read().strip())
    r = subprocess.run(["psql", "-X", "-At", "-F", "\t", "-d", conninfo,
                        "-c", sql], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, check=True)
    return [line.split("\t") for line in r.stdout.splitlines() if line]


def keep_logs(c, nodes, wms=None):
    """Copies each node's log out of the cluster's directory (which down
    removes) into a kept one, named on stderr: a violation to diagnose.
    With the WMS, its log too."""
    kept = tempfile.mkdtemp(prefix="oms-chaos-logs-", dir="/tmp")
    for i in range(1, nodes + 1):
        src = os.path.join(c.dir, "n%d" % i, "omsd.log")
        if os.path.exists(src):
            shutil.copy(src, os.path.join(kept, "n%d.log" % i))
    if wms is not None and os.path.exists(wms.log):
        shutil.copy(wms.log, os.path.join(kept, "wms-sim.log"))
    sys.stderr.write("cluster_orders_chaos: the nodes' logs are kept in %s\n"
                     % kept)


# Where an EXTERNAL order's reservation stands at the WMS once the WMS is
# in step, by the order's status (None: the WMS has none; an order
# cancelled before its reservation was asked for has none).
WMS_STATUS_OF = {"CREATED": {"RESERVED"}, "CONFIRMED": {"BLOCKED"},
                 "CANCELLED": {"RELEASED", None}}
# The start of the cancel reason of an order whose reservation the WMS
# refused (actors/external_sku_wms.cpp).
REFUSED = "the seller's warehouse refused the reservation"


def external_orders(c):
    """The store's EXTERNAL orders: id -> (status, cancel reason, {sku:
    (units ordered, units not cancelled)})."""
    orders = {}
    for oid, status, sku, qty, kept, reason in psql(
            c, "SELECT o.id, o.status, l.sku, l.quantity, "
               "l.quantity - l.cancelled_quantity, o.cancel_reason FROM "
               "oms.orders o JOIN oms.order_lines l ON l.order_id = o.id "
               "WHERE o.seller = 'EXTERNAL'"):
        orders.setdefault(oid, (status, reason, {}))[2][sku] = (int(qty),
                                                               int(kept))
    return orders


def wms_reservations(wms, orders):
    """(order, sku) -> the WMS's reservation ORDER:SKU (None: it has none),
    for each line of `orders`. The WMS lists none: each is asked for."""
    return {(oid, sku): wms.reservation(oid, sku)
            for oid, (_, _, lines) in orders.items() for sku in lines}


def wms_out_of_step(orders, found, state):
    """What at the WMS does not match the store's EXTERNAL orders: each
    order's reservation in the state its status wants, of its line's
    units; and nothing more at the WMS than those (its count of
    reservations not released, and its units reserved and blocked per
    SKU, are theirs: none holds units for an order the store does not
    have)."""
    wrong = []
    for (oid, sku), res in sorted(found.items()):
        status, _, lines = orders[oid]
        at_wms = res["status"] if res else None
        if at_wms not in WMS_STATUS_OF.get(status, ()):
            wrong.append("order %s is %s, its reservation of %s at the WMS "
                         "%s" % (oid, status, sku, at_wms or "absent"))
        elif res and res["quantity"] != lines[sku][0]:
            wrong.append("order %s has %d of %s, its reservation at the WMS "
                         "%d" % (oid, lines[sku][0], sku, res["quantity"]))
    made = [res for res in found.values() if res]
    # (A RELEASED one may have no order: its order's creation failed after
    # the reserve's intent was journaled, and the duty's holder released
    # it. One that still holds units must have its order.)
    holding = [res for res in made if res["status"] != "RELEASED"]
    at_wms = sum(n for status, n in state["reservations"].items()
                 if status != "RELEASED")
    if at_wms != len(holding):
        wrong.append("the WMS holds %d reservations not released, the "
                     "store's EXTERNAL orders %d" % (at_wms, len(holding)))
    for s in state["skus"]:
        for units, status in (("reserved", "RESERVED"),
                              ("blocked", "BLOCKED")):
            ours = sum(res["quantity"] for res in made
                       if res["sku"] == s["sku"] and res["status"] == status)
            if s[units] != ours:
                wrong.append("%s: %d units %s at the WMS, %d by the store's "
                             "EXTERNAL orders" % (s["sku"], s[units], units,
                                                  ours))
    return wrong


def check_external(c, wms, skus, stock):
    """The EXTERNAL seller's checks, once the WMS is in step with the
    store's orders (waited for, within 60 s: the duty shard's last holder
    asks for what is owed, and orders left CREATED lapse and are released
    meanwhile): (violations, figures for the JSON line)."""
    start = time.monotonic()
    while True:
        orders = external_orders(c)
        found = wms_reservations(wms, orders)
        state = wms.state()
        violations = wms_out_of_step(orders, found, state)
        if not violations or time.monotonic() > start + 60:
            break
        time.sleep(1)
    waited = time.monotonic() - start
    # Our own count is all that keeps us within the WMS's stock (its
    # snapshot never moves): what the orders not cancelled hold never
    # exceeds what it was seeded with.
    for sku in skus:
        held = sum(lines[sku][1] for status, _, lines in orders.values()
                   if status != "CANCELLED" and sku in lines)
        if held > stock:
            violations.append("%s: EXTERNAL orders not cancelled hold %d "
                              "units, the WMS had %d" % (sku, held, stock))
    for s in state["skus"]:
        if s["reserved"] + s["blocked"] > s["onHand"]:
            violations.append("%s: %d units reserved and %d blocked at the "
                              "WMS, %d on hand" % (s["sku"], s["reserved"],
                                                   s["blocked"], s["onHand"]))
    # Nothing but our nodes changes the WMS's stock: a reservation we
    # granted and it refused is a unit we counted that was not there.
    for oid, (_, reason, _) in sorted(orders.items()):
        if reason.startswith(REFUSED):
            violations.append("order %s cancelled: %s" % (oid, reason))
    by_status = {}
    for status, _, _ in orders.values():
        by_status[status] = by_status.get(status, 0) + 1
    return violations, {
        "orders_by_status": by_status,
        "wms_reservations": state["reservations"],
        "wms_reservations_asked": state["requests"]["byRoute"].get(
            "POST /reservations", 0),
        "wms_released_without_order": sum(state["reservations"].values()) -
        sum(1 for res in found.values() if res),
        "wms_requests": state["requests"]["total"],
        "wms_in_step_after_s": round(waited, 1)}


def main():
    p = run_arguments(16)
    p.add_argument("--skus", type=int, default=12)
    p.add_argument("--stock", type=int, default=20)
    p.add_argument("--clients", type=int, default=6)
    p.add_argument("--pg-restarts", action="store_true",
                   help="PostgreSQL crashes and starts again among the "
                        "faults")
    p.add_argument("--joins", action="store_true",
                   help="nodes that never ran join (two at most), and "
                        "nodes leave for good (SIGTERM; two at least "
                        "stay), among the faults")
    p.add_argument("--link-faults", action="store_true",
                   help="a node's link to PostgreSQL, or the other nodes' "
                        "links to its region, cut or frozen among the "
                        "faults")
    p.add_argument("--external", action="store_true",
                   help="the EXTERNAL seller too: wms-sim with 3 SKUs of "
                        "STOCK units, a quarter of the orders its")
    p.add_argument("--wms-sim", default=None,
                   help="wms-sim's path (default: the one beside OMSD)")
    a = p.parse_args()
    seed, rng = seeded(a)
    flags = ["--cluster-shards", str(a.shards), "--lease-ttl", a.ttl,
             "--hold-ttl", "8s", "--request-timeout", "5s",
             "--cross-shard-grace", "5s", "--cross-shard-check", "2s"]
    ext_skus = ["EXT-%d" % k for k in range(3)] if a.external else []
    wms = None
    if a.external:
        wms = WmsSim(a.wms_sim or os.path.join(
            os.path.dirname(os.path.abspath(a.omsd)), "wms-sim"),
            ext_skus, a.stock)
        # Every node the same WMS (the duty shard's holder calls it), its
        # feed read often and its snapshots read again soon after a move;
        # a call given up on within 10 s, so a former holder's late
        # reserve is released again well within the checks' wait (the
        # grace is the call deadline and one attempt's timeout).
        flags += ["--wms-url", wms.url, "--external-feed-interval", "500ms",
                  "--external-snapshot-min-interval", "1s",
                  "--wms-call-deadline", "10s", "--wms-timeout", "2s"]
    try:
        c = Cluster(a.omsd, a.nodes, flags, links=a.link_faults)
    except BaseException:
        if wms is not None:
            wms.stop()
            wms.remove()
        raise
    h = Harness(c, rng, ext_skus)
    kinds = (["kill", "pause", "stop"] +
             (["pg-restart"] if a.pg_restarts else []) +
             (LINK_FAULTS if a.link_faults else []) +
             (["join", "leave"] if a.joins else []))
    faults = Faults(c, rng, kinds=kinds, on_join=h.joined,
                    on_leave=h.leaving)
    violations = []
    events = 0
    epochs_seen = 0
    external = None  # the EXTERNAL figures, with --external
    skus = ["CH-%d" % k for k in range(a.skus)]
    completed = False
    try:
        for sku in skus:
            status, out = h.routed(rng, "POST", "/v1/inventory/%s/receipts" %
                                   sku, c.token,
                                   {"quantity": a.stock, "unitPrice": 100},
                                   deadline_s=30)
            if status != 200:
                raise RuntimeError("receipt of %s: %s %s" % (sku, status, out))
        for sku in ext_skus:
            # Served by the duty shard's holder once it has read the WMS.
            status, out = h.routed(rng, "GET", "/v1/inventory/%s?seller="
                                   "EXTERNAL" % sku, c.token, deadline_s=30)
            if status != 200 or (out or {}).get("available") != a.stock:
                raise RuntimeError("EXTERNAL stock of %s: %s %s" %
                                   (sku, status, out))
        customers = []
        for k in range(a.clients):
            status, out = call(h.node_url(rng), "POST", "/v1/customers",
                               c.token, {"name": "client %d" % k})
            if status != 201:
                raise RuntimeError("customer: %s %s" % (status, out))
            customers.append((out["customerId"], out["token"]))
        time.sleep(2)  # every node has read the customers
        threads = [threading.Thread(target=h.client,
                                    args=(rng.randrange(1 << 30), cid, tok,
                                          skus))
                   for cid, tok in customers]
        for t in threads:
            t.start()
        end = time.monotonic() + a.seconds
        while time.monotonic() < end:
            faults.tick()
            time.sleep(0.05)
        faults.finish()
        h.stop.set()
        for t in threads:
            t.join()

        # Every shard served again, as every node sees it.
        deadline = time.monotonic() + 30
        settled = False
        while time.monotonic() < deadline and not settled:
            views = [c.view(i) for i in c.live()]
            # Held, and served (loaded): every shard answers again.
            settled = all(v is not None for v in views) and sum(
                len(v["owned"]) for v in views) == a.shards and sum(
                len(v["served"]) for v in views) == a.shards
            time.sleep(0.2)
        if not settled:
            violations.append("the shards were not all held and served "
                              "again within 30 s of the last fault")

        # Holds on another shard than their order's follow its record (and
        # lapse if it never came to be): waited for, within 60 s.
        deadline = time.monotonic() + 60
        while True:
            received = {r[0]: (int(r[1]), int(r[2])) for r in psql(
                c, "SELECT sku, received_total, on_hand FROM oms.skus")}
            held = {r[0]: int(r[1]) for r in psql(
                c, "SELECT sku, sum(quantity) FROM oms.holds GROUP BY sku")}
            granted = {r[0]: int(r[1]) for r in psql(
                c, "SELECT l.sku, sum(l.quantity - l.cancelled_quantity) "
                   "FROM oms.order_lines l JOIN oms.orders o ON "
                   "o.id = l.order_id WHERE o.status NOT IN ('CANCELLED') "
                   "GROUP BY l.sku")}
            if all(held.get(k, 0) == granted.get(k, 0) for k in skus) or \
                    time.monotonic() > deadline:
                break
            time.sleep(1)
        for sku in skus:
            rec, on_hand = received.get(sku, (0, 0))
            hq = held.get(sku, 0)
            if rec != a.stock:
                violations.append("%s: received %d, not %d" %
                                  (sku, rec, a.stock))
            if hq > rec or hq > on_hand:
                violations.append("%s: %d units held, %d received, %d on "
                                  "hand" % (sku, hq, rec, on_hand))
            if hq != granted.get(sku, 0):
                violations.append("%s: %d units held, but the orders not "
                                  "cancelled were granted %d" %
                                  (sku, hq, granted.get(sku, 0)))
        # The log, in commit order: availability never below zero. The
        # EXTERNAL SKUs' units are the WMS's (no stock_received here): it
        # was seeded with STOCK of each, and nothing else changes them.
        available = {sku: a.stock for sku in ext_skus}
        reserved = {}
        events = 0
        for seq, kind, sku, order, qty in psql(
                c, "SELECT seq, kind, coalesce(sku, ''), "
                   "coalesce(order_id, ''), quantity FROM oms.events "
                   "ORDER BY seq"):
            events += 1
            qty = int(qty)
            if kind == "stock_received":
                available[sku] = available.get(sku, 0) + qty
            elif kind == "stock_reserved":
                available[sku] = available.get(sku, 0) - qty
                reserved[(order, sku)] = reserved.get((order, sku), 0) + qty
                if available[sku] < 0:
                    violations.append(
                        "event %s: %s reserved %d of %s, leaving %d "
                        "available: granted twice" %
                        (seq, order, qty, sku, available[sku]))
            elif kind == "stock_released":
                available[sku] = available.get(sku, 0) + qty
                reserved[(order, sku)] = reserved.get((order, sku), 0) - qty
                if reserved[(order, sku)] < 0:
                    violations.append("event %s: %s released more of %s "
                                      "than it reserved" % (seq, order, sku))
        # The fences' record (oms_log_epochs): one writer per epoch of a
        # shard, and a shard's epochs one after another in the log, never
        # interleaved and never going back (a stale owner's commit after
        # the next owner's would be both).
        writer = {}
        by_shard = {}
        for shard, epoch, node, first, last in psql(
                c, "SELECT shard, epoch, node, first_seq, last_seq FROM "
                   "oms.oms_log_epochs"):
            key = (int(shard), int(epoch))
            if writer.setdefault(key, node) != node:
                violations.append("shard %s: epoch %s committed by %s and "
                                  "%s" % (shard, epoch, writer[key], node))
            by_shard.setdefault(int(shard), []).append(
                (int(first), int(last), int(epoch), node))
        for shard, spans in by_shard.items():
            spans.sort()
            for (f1, l1, e1, n1), (f2, l2, e2, n2) in zip(spans, spans[1:]):
                if e2 <= e1 or l1 >= f2:
                    violations.append(
                        "shard %d: %s's commits under epoch %d (events "
                        "%d-%d) and %s's under epoch %d (events %d-%d) "
                        "are not one after the other" %
                        (shard, n1, e1, f1, l1, n2, e2, f2, l2))
        epochs_seen = len(writer)
        # Idempotency across nodes: a retry under an order's key at another
        # node (after no answer) must never make a second order.
        for customer, key, n in psql(
                c, "SELECT customer, record::json->>'key', count(*) FROM "
                   "oms.orders WHERE coalesce(record::json->>'key', '') <> "
                   "'' GROUP BY 1, 2 HAVING count(*) > 1"):
            violations.append("customer %s's Idempotency-Key %s made %s "
                              "orders" % (customer, key, n))
        status_of = {}
        ids = list(h.acked)
        for k in range(0, len(ids), 500):
            chunk = ",".join("'%s'" % i for i in ids[k:k + 500])
            for r in psql(c, "SELECT id, status FROM oms.orders WHERE id IN "
                             "(%s)" % chunk):
                status_of[r[0]] = r[1]
        legal = {"CREATED": {"CREATED", "CONFIRMED", "CANCELLED"},
                 "CONFIRMED": {"CONFIRMED", "CANCELLED"},
                 "CANCELLED": {"CANCELLED"}}
        for order, (lines, acked) in h.acked.items():
            now = status_of.get(order)
            if now is None:
                violations.append("order %s acknowledged %s is gone" %
                                  (order, acked))
            elif now not in legal[acked]:
                violations.append("order %s acknowledged %s is %s" %
                                  (order, acked, now))
        # Each node's audit, asked again for up to 30 s while it is not
        # clean: a hold on another shard than its order's is settled
        # against the order's record by its owner's timer (every
        # --cross-shard-check), so a node's memory may trail the store a
        # moment after the store's checks above passed; one that stays
        # is a violation.
        for i in c.live():
            deadline = time.monotonic() + 30
            while True:
                status, out = call("http://127.0.0.1:%d" % c.ports[i], "GET",
                                   "/v1/audit", c.token, timeout=10)
                clean = status == 200 and not (out or {}).get("violations")
                if clean or time.monotonic() > deadline:
                    break
                time.sleep(1)
            if not clean:
                violations.append("node n%d: audit %s %s" %
                                  (i, status, json.dumps(out)[:300]))
        if wms is not None:
            found, external = check_external(c, wms, ext_skus, a.stock)
            violations += found
        completed = True
    finally:
        h.stop.set()
        # A run that failed on the way (a node that would not stop, say)
        # keeps them too.
        if violations or not completed:
            keep_logs(c, c.nodes, wms)
        c.down()
        if wms is not None:
            wms.stop()
            wms.remove()
    if external is not None:
        external.update({"skus": len(ext_skus), "stock": a.stock,
                         "operations": h.external_ops,
                         "acknowledged_orders": len(h.external_acked)})
    print(json.dumps({"bench": "cluster_orders_chaos", "seed": seed,
                      "nodes": a.nodes, "nodes_in_the_end": len(c.live()), "seconds": a.seconds,
                      "shards": a.shards, "ttl": a.ttl, "skus": a.skus,
                      "stock": a.stock, "clients": a.clients,
                      "operations": h.ops, "outcomes": h.by_code,
                      "acknowledged_orders": len(h.acked),
                      "acknowledged_two_sku_orders": sum(
                          1 for lines, _ in h.acked.values()
                          if len(lines) > 1),
                      "events_replayed": events,
                      "shard_epochs_committed": epochs_seen,
                      "faults": faults.injected,
                      **({"external": external} if external else {}),
                      "violations": violations[:20],
                      "violation_count": len(violations)}))
    return 1 if violations else 0


if __name__ == "__main__":
    sys.exit(main())

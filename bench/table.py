"""Render a bosun-bench JSON result as a Markdown table, with each figure's ratio to its target."""
import json
import sys

r = json.load(open(sys.argv[1]))
rows = []


def add(name, value, unit, target=None, lower_is_better=True):
    if value is None:
        return
    ratio = ""
    if target:
        ratio = f"{value / target:.2f}× target" if lower_is_better else f"{value / target:.2f}× target (higher is better)"
    rows.append((name, f"{value:,.3f} {unit}" if isinstance(value, float) else f"{value:,} {unit}", ratio))


def spread(name, st, unit, target=None):
    """A median with its min and max."""
    if not st:
        return
    add(name, st["median"], f"{unit} (min {st['min']:.3f}, max {st['max']:.3f}, {st['runs']} runs)", target)


def failed(name, entry):
    """A benchmark that failed shows its error instead of figures."""
    if entry and "error" in entry:
        rows.append((name, "FAILED", entry["error"].replace("|", "/").replace("\n", " ")))
        return True
    return False


for f in r["fan_out_real_agents"]:
    n = f["nodes"]
    if failed(f"fan-out, {n} real agents", f):
        continue
    if f.get("api_seconds"):
        spread(f"fan-out, {n} real agents (API)", f["api_seconds"], "s")
    if f.get("bosun_run_seconds"):
        spread(f"fan-out, {n} real agents (bosun run)", f["bosun_run_seconds"], "s")
    salt = f.get("salt")
    if not salt:
        continue
    if "error" in salt:
        rows.append((f"Salt, {n} minions", "NOT MEASURED", salt["error"]))
        continue
    spread(f"Salt {salt['version']} cmd.run, {n} minions", salt["seconds"], "s")
    target = 0.1 if n == 50 else None
    spread(f"ratio Bosun (bosun run) / Salt, {n} nodes", salt["ratio_bosun_run_to_salt"], "×", target)
    spread(f"ratio Bosun (API) / Salt, {n} nodes", salt["ratio_api_to_salt"], "×", target)
    add(f"salt-minion idle RSS (process tree, {n} minions up)", salt["minion_rss_kb"] / 1024, "MB")
for s in r["fleet_simulator"]:
    n = s["nodes"]
    if failed(f"{n} simulated nodes", s):
        continue
    add(f"connect {n} simulated nodes", s["connect"]["connect_seconds"], "s")
    add(f"fan-out to {n} simulated nodes", s["fan_out_seconds"]["median"], "s", 1.0 if n == 1000 else None)
    add(f"server RSS per node ({n})", s["server_rss_kb_per_node"], "KB", 20.0)
    add(f"server CPU idle ({n})", s["server_cpu_idle_cores"], "cores")
    add(f"server CPU during fan-out ({n})", s["server_cpu_fan_out_cores"], "cores")
a = r["agent_footprint"] or {}
if a and not failed("agent footprint", a):
    add("agent binary (stripped)", a["binary_bytes"] / 1e6, "MB", 10.0)
    add(f"agent idle RSS after {a['idle_seconds']} s", a["idle_rss_kb"] / 1024, "MB", 8.0)
    add(f"agent CPU in {a['idle_seconds']} s idle", a["idle_cpu_seconds"], "s")
    add("agent peak RSS streaming 50 MB", a["peak_rss_kb_streaming_50mb"] / 1024, "MB", 16.0)
api = r["api_throughput"] or {}
for op, v in ({} if failed("API throughput", api) else api).items():
    target = {"SendCommand": 1000.0, "GetParameter": 20000.0}.get(op)
    rps = v["requests_per_second"]
    if isinstance(rps, dict):
        rows.append((f"{op} ({v['clients']} clients, {v['window_seconds']} s windows)",
                     f"{rps['median']:,.0f} req/s (min {rps['min']:,.0f}, max {rps['max']:,.0f}, {rps['runs']} runs)",
                     f"{rps['median'] / target:.2f}× target (higher is better)" if target else ""))
        add(f"{op} p50 / p99 (medians)", v["p50_ms"]["median"], f"ms / {v['p99_ms']['median']:.1f} ms")
        add(f"{op} CPU: server / load generator (medians)", v["server_cpu_cores"]["median"],
            f"cores / {v['load_generator_cpu_cores']['median']:.2f} cores")
        spread(f"{op} server CPU per request", v["server_cpu_us_per_request"], "µs")
        if v["errors"]:
            rows.append((f"{op} errors", f"{v['errors']}", "answers that were not the expected ones"))
        continue
    # Results written before throughput was repeated: one window per operation.
    add(f"{op} ({v['clients']} clients)", rps, "req/s", target, lower_is_better=False)
    add(f"{op} p50 / p99", v["p50_ms"], f"ms / {v['p99_ms']:.1f} ms")
    if "server_cpu_cores" in v:
        add(f"{op} CPU: server / load generator", v["server_cpu_cores"],
            f"cores / {v['load_generator_cpu_cores']:.2f} cores")

assoc = r.get("associations") or {}
if assoc and not failed("associations on one cron slot", assoc):
    n, nodes = assoc["associations"], assoc["nodes"]
    add(f"{n:,} associations: slot to every command created ({nodes:,} simulated nodes)",
        assoc["slot_to_all_commands_created_seconds"], "s", 10.0)
    add(f"{n:,} associations: slot to every invocation terminal",
        assoc["slot_to_all_invocations_terminal_seconds"], "s")
    add(f"server CPU idle with {n:,} scheduled associations", assoc["server_cpu_idle_cores"] * 100,
        "% of a core", 1.0)
    add(f"server RSS idle with {n:,} scheduled associations", assoc["server_rss_idle_kb"] / 1024, "MB")
    add(f"creating {n:,} associations ({assoc['regions']} regions, 16 at once)", assoc["create_seconds"], "s")

events = r.get("events") or {}
pat = events.get("patterns")
if pat:
    add(f"event×rule pattern evaluations on one core ({pat['rules']:,} rules)",
        pat["evaluations_per_second"], "/s", pat["target_evaluations_per_second"], lower_is_better=False)
for b in events.get("bursts") or []:
    grouping = f"grouped over {b['group_window_seconds']} s" if b.get("group_window_seconds") else "not grouped"
    if failed(f"burst of {b['nodes']:,} failed invocations to mail ({grouping})", b):
        continue
    add(f"{b['nodes']:,} failed invocations: SendCommand to every node mailed ({grouping})",
        b["all_mailed_seconds"], "s", 10.0)
    add(f"{b['nodes']:,} failed invocations: SendCommand to the first mail ({grouping})",
        b["first_mail_seconds"], "s")
    add(f"{b['nodes']:,} failed invocations: mails sent ({grouping})", b["mails"], "mails", 5)

scale = r.get("replicas") or {}
if scale and not failed("PostgreSQL + S3 and replicas", scale):
    sqlite = {s["nodes"]: s["fan_out_seconds"]["median"] for s in r.get("fleet_simulator") or []
              if "fan_out_seconds" in s}
    for f in scale.get("fan_out") or []:
        n, k = f["nodes"], f["replicas"]
        where = f"{k} replica{'s' if k > 1 else ''}, PostgreSQL + S3"
        if failed(f"fan-out to {n:,} simulated nodes ({where})", f):
            continue
        add(f"connect {n:,} simulated nodes ({where})", f["connect_seconds"], "s")
        spread(f"fan-out to {n:,} simulated nodes ({where})", f["fan_out_seconds"], "s")
        if k == 1 and n in sqlite:
            add(f"ratio PostgreSQL / SQLite fan-out, {n:,} nodes", f["fan_out_seconds"]["median"] / sqlite[n], "×", 2.0)
        add(f"servers' RSS with {n:,} nodes ({where})", sum(f["servers_rss_kb"]) / 1024, "MB")
        add(f"servers' CPU during fan-out ({n:,}, {where})", f["servers_cpu_fan_out_cores"], "cores")
    fo = scale.get("failover") or {}
    if fo and not failed("failover after kill -9", fo):
        add(f"failover: kill -9 of {fo['killed']} to its command done ({fo['agents']} agents)",
            fo["command_done_seconds"], "s", fo["target_seconds"])
        add(f"failover: kill -9 to every node Online again ({fo['agents']} agents)",
            fo["all_online_seconds"], "s", fo["target_seconds"])

print(f"Run {r['date']} on {r['machine']['cores']} cores (quick: {r['quick']})\n")
print("| figure | value | vs target |")
print("|---|---|---|")
for name, value, ratio in rows:
    print(f"| {name} | {value} | {ratio} |")

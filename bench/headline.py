#!/usr/bin/env python3
"""The README's Performance figures from one `make bench` result.

    python3 bench/headline.py [bench/results/<date>-<commit>.json] [--plots] [--readme]

Prints the Markdown of the headline (run conditions, table, one line per other
measure) for README.md's Performance section; --readme writes it there, between
the section's ``bench:begin`` and ``bench:end`` markers; --plots copies the
run's plots to doc/bench/ (latency-cdf.png, latency-vs-load.png, storm.png),
which the README shows. Without a file: the newest result.
"""

import json
import shutil
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLOTS = ("latency-cdf", "latency-vs-load", "storm")
BEGIN = "<!-- bench:begin: written by bench/headline.py --readme -->"
END = "<!-- bench:end -->"


def fmt(value):
    return "-" if value is None else f"{value:,.0f}"


def ratio(ours, stock):
    return "-" if ours is None or not stock else f"{ours / stock:.2f}x"


def rows(results):
    grouped = {}
    for key, summary in results["messages"].items():
        phase, direction, path = key.split("|")
        grouped.setdefault((phase, direction), {})[path] = summary
    for (phase, direction), paths in grouped.items():
        ours, stock = paths.get("ours"), paths.get("stock")
        if not ours or not stock:
            continue
        label = f"{phase}, {direction.replace('->', ' -> ')}"
        if "offered_rate" in ours:
            label += f" (achieved {ours['achieved_rate']} / {stock['achieved_rate']} msg/s)"
        lost = (ours["lost"] + ours["errors"], stock["lost"] + stock["errors"])
        yield (
            f"| {label} | {fmt(ours['median'])} / {fmt(ours['p99'])} ms | "
            f"{fmt(stock['median'])} / {fmt(stock['p99'])} ms | "
            f"{ratio(ours['median'], stock['median'])} / {ratio(ours['p99'], stock['p99'])} | "
            f"{lost[0]} / {lost[1]} |"
        )


def notes(results):
    sockets = results.get("sockets") or {}
    if sockets:
        yield (
            f"- **Sockets:** one gevent worker held {sockets['open']:,} idle sockets "
            f"({sockets.get('gevent_fds_per_socket')} file descriptors and "
            f"{sockets.get('gevent_kib_per_socket') or '-'} KiB resident each; its fd limit "
            f"{fmt(sockets.get('gevent_fd_limit'))} caps it near "
            f"{fmt(sockets.get('gevent_socket_ceiling'))})."
        )
    storm = results.get("storm")
    if storm:
        log = storm["server_log"]
        yield (
            f"- **Restart under load:** {storm['back_and_subscribed']:,}/{storm['sockets']:,} "
            f"sockets back and resubscribed {storm['total_seconds']} s after SIGTERM (the server "
            f"took {storm['stop_seconds']} s to stop and {storm['boot_seconds']} s to answer "
            f"again; per socket p50 {storm['reconnect_seconds']['median']} s, "
            f"max {storm['reconnect_seconds']['max']} s); {log['PoolError']} `PoolError`, "
            f"{log['Too many open files']} `Too many open files`."
        )
    scaleout = results.get("scaleout")
    if scaleout and not scaleout.get("error"):
        yield (
            "- **Two servers** behind nginx, customers on one and agents on the other: see the "
            "*scale-out* rows (every message crosses through PostgreSQL NOTIFY)."
        )
    tickets = results.get("tickets") or {}
    if tickets.get("ours") and tickets.get("stock"):
        yield (
            f"- **Opening a conversation** ({tickets['ours']['concurrency']} customers at once): "
            f"{tickets['ours']['per_second']}/s through the ticket form (p50 "
            f"{fmt(tickets['ours']['median'])} ms) vs {tickets['stock']['per_second']}/s for a "
            f"stock live chat (p50 {fmt(tickets['stock']['median'])} ms)."
        )
    queue = results.get("queue") or {}
    if queue:
        parts = [
            f"{key.split('|')[0].removeprefix('queue: ')} p95 {fmt(summary['p95'])} ms"
            for key, summary in queue.items()
        ]
        yield (
            f"- **Agent queue** at {results['data']['tickets']:,} tickets: "
            + ", ".join(parts)
            + "."
        )
    cost = results.get("db_cost_per_message")
    if cost:
        yield (
            "- **PostgreSQL per message** (ours / stock): "
            + ", ".join(
                f"{what.replace('_', ' ')} {cost['ours'][what]} / {cost['stock'][what]}"
                for what in cost["ours"]
            )
            + "."
        )


def main(argv):
    files = [a for a in argv if not a.startswith("--")]
    path = (
        Path(files[0])
        if files
        else max((HERE / "results").glob("*.json"), key=lambda p: p.stat().st_mtime)
    )
    results = json.loads(path.read_text())
    text = headline(results)
    print(text)
    if "--readme" in argv:
        readme = HERE.parent / "README.md"
        before, rest = readme.read_text().split(BEGIN, 1)
        _old, after = rest.split(END, 1)
        readme.write_text(f"{before}{BEGIN}\n{text}\n{END}{after}")
        print("\nwrote README.md's Performance figures", file=sys.stderr)
    if "--plots" in argv:
        out = HERE.parent / "doc" / "bench"
        out.mkdir(parents=True, exist_ok=True)
        for name in PLOTS:
            source = path.with_name(f"{path.stem}-{name}.png")
            if source.exists():
                shutil.copyfile(source, out / f"{name}.png")
                print(f"copied {source.name} to doc/bench/{name}.png", file=sys.stderr)


def headline(results):
    lines = []
    machine = results["machine"]
    load = machine.get("loadavg_at_end") or [None]
    # the settings given on the command line; unset ones took their defaults
    settings = (results.get("environment") or {}).items()
    command = ["make bench"] + [f"{k}={v}" for k, v in settings if v not in (None, "")]
    lines.append(
        f"Run of {results['date'][:10]}, commit `{results['commit']}`, {machine['cores']} cores / "
        f"{machine.get('memory_gib') or '?'} GiB, load average {load[0]:.1f} at its end, "
        f"`{' '.join(command)}`:\n"
    )
    lines.append(
        "| post -> other party's websocket | ours p50 / p99 | stock p50 / p99 "
        "| ratio p50 / p99 | lost |"
    )
    lines.append("| --- | --- | --- | --- | --- |")
    lines.extend(rows(results))
    lines.append("")
    lines.extend(notes(results))
    return "\n".join(lines)


if __name__ == "__main__":
    main(sys.argv[1:])

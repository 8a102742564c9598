#!/usr/bin/env python3
"""Turns the JSON lines of a Benchmarks/run.sh run into a chart and Markdown tables.

    python3 Benchmarks/report.py RESULTS.jsonl [--machine TEXT]

Writes RESULTS.png (fan-out latency percentiles against offered rate, one line per backend and
percentile) and prints the tables that Benchmarks/README.md quotes.
"""
import argparse
import json
import pathlib

import matplotlib
import matplotlib.ticker

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def load(path):
    with open(path) as lines:
        return [json.loads(line) for line in lines if line.strip()]


def chart(sweeps, path, machine):
    figure, axes = plt.subplots(figsize=(8, 5), dpi=120)
    for index, sweep in enumerate(sweeps):
        color = f"C{index}"
        rates = [step["rate"] for step in sweep.get("worst", sweep["steps"])]
        for key, style, name in (("p50", "-", "p50"), ("p99", "--", "p99"), ("p999", ":", "p99.9")):
            values = [step["latency"][key] for step in sweep.get("worst", sweep["steps"])]
            axes.plot(rates, values, style, color=color, marker="o", markersize=3, label=f"{sweep['label']} {name}")
    threshold = sweeps[0]["thresholdMs"] if sweeps else 50
    axes.axhline(threshold, color="grey", linewidth=0.8)
    axes.text(axes.get_xlim()[0], threshold, f" {threshold:g} ms", va="bottom", color="grey", fontsize=8)
    axes.set_yscale("log")
    axes.yaxis.set_major_locator(matplotlib.ticker.LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    axes.yaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda value, _: f"{value:g}"))
    axes.yaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    axes.set_xlabel("offered messages/s into a group of 100 connected members")
    axes.set_ylabel("send → receive latency per delivered copy (ms)")
    axes.set_title("parley-bench sweep" + (f"\n{machine}" if machine else ""), fontsize=10)
    axes.grid(True, which="both", linewidth=0.3)
    axes.legend(fontsize=7, ncol=len(sweeps))
    figure.tight_layout()
    figure.savefig(path)


def ms(value):
    return f"{value:,.1f}" if value < 100 else f"{value:,.0f}"


def sweep_table(sweeps):
    labels = [sweep["label"] for sweep in sweeps]
    rates = sorted({step["rate"] for sweep in sweeps for step in sweep.get("worst", sweep["steps"])})
    rows = ["| offered msg/s | " + " | ".join(f"{label} p50 / p99 (ms)" for label in labels) + " |",
            "|---" * (len(labels) + 1) + "|"]
    for rate in rates:
        cells = []
        for sweep in sweeps:
            step = next((step for step in sweep.get("worst", sweep["steps"]) if step["rate"] == rate), None)
            if step is None:
                cells.append("—")
            else:
                lost = f", {step['lost']} lost" if step["lost"] else ""
                cells.append(f"{ms(step['latency']['p50'])} / {ms(step['latency']['p99'])}{lost}")
        rows.append(f"| {rate:g} | " + " | ".join(cells) + " |")
    held = [f"{sweep['heldRate']:g} msg/s" if sweep.get("heldRate") else "none" for sweep in sweeps]
    rows.append(f"| **held (p99 ≤ {sweeps[0]['thresholdMs']:g} ms)** | " + " | ".join(f"**{h}**" for h in held) + " |")
    return "\n".join(rows)


def load_table(results):
    rows = ["| scenario | backend | throughput | p50 | p99 | failed |", "|---|---|---|---|---|---|"]
    for result in results:
        if result["scenario"] == "history":
            name = f"history, {result['messages']:,} messages, c={result['concurrency']}"
            unit = "pages/s"
        else:
            name = f"send, {result['conversations']} conversation(s), c={result['concurrency']}"
            unit = "msg/s"
        latency = result["latency"]
        rows.append(f"| {name} | {result['label']} | {result['perSecond']:,.0f} {unit} | {ms(latency['p50'])} ms "
                    f"| {ms(latency['p99'])} ms | {result['failed']} |")
    return "\n".join(rows)


def connections_table(results):
    rows = ["| backend | open | server RSS before → open | per connection | one message to all: p50 / to the last |",
            "|---|---|---|---|---|"]
    for result in results:
        before = result.get("serverRSSBeforeKiB") or 0
        opened = result.get("serverRSSOpenKiB") or 0
        fanout = result["fanout"]
        rows.append(f"| {result['label']} | {result['opened']:,} of {result['requested']:,} in {result['openSeconds']:g} s "
                    f"| {before / 1024:,.0f} → {opened / 1024:,.0f} MiB | {result.get('kibPerConnection') or 0:g} KiB "
                    f"| {ms(fanout['latency']['p50'])} / {ms(fanout.get('toLastMs') or 0)} ms, {fanout['lost']} missed |")
    return "\n".join(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--machine", default="")
    arguments = parser.parse_args()
    results = load(arguments.results)
    sweeps = [result for result in results if result["scenario"] == "sweep"]
    loads = [result for result in results if result["scenario"] in ("history", "send")]
    held = [result for result in results if result["scenario"] == "connections"]
    png = pathlib.Path(arguments.results).with_suffix(".png")
    if sweeps:
        chart(sweeps, png, arguments.machine)
    if arguments.machine:
        print(f"Machine: {arguments.machine}.\n")
    if sweeps:
        print("Fan-out (`sweep`, 100 members, 10 senders), send → receive per delivered copy:\n")
        print(sweep_table(sweeps) + "\n")
    if loads:
        print("REST (`history`, `send`):\n")
        print(load_table(loads) + "\n")
    if held:
        print("Idle connections (`connections`):\n")
        print(connections_table(held))


if __name__ == "__main__":
    main()

#!/usr/bin/python3
"""Plots the trajectories scaling_bench wrote (<dir>/<scenario>.csv) into bench/scaling/scaling.png.
Needs python3-matplotlib (Debian package; scripts/setup should install it)."""
import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

out_dir = sys.argv[1] if len(sys.argv) > 1 else "bench/scaling/out"
png = sys.argv[2] if len(sys.argv) > 2 else "bench/scaling/scaling.png"
scenarios = ["step", "burst", "sawtooth", "steady"]
policies = [("keda", "KEDA (30 s poll + 15 s HPA)", "tab:red"),
            ("keda_live", "KEDA (live metric, 15 s HPA)", "tab:orange"),
            ("sluice_lag", "Sluice (lagPerReplica)", "tab:blue"),
            ("sluice_drain", "Sluice (lagPerReplica + drainSeconds 60)", "tab:green")]

fig, axes = plt.subplots(len(scenarios), 2, figsize=(14, 3.2 * len(scenarios)), sharex="row")
for row, name in enumerate(scenarios):
    with open(f"{out_dir}/{name}.csv") as f:
        rows = list(csv.DictReader(f))
    t = [int(r["t"]) for r in rows]
    rep_ax, lag_ax = axes[row]
    for key, label, color in policies:
        rep_ax.step(t, [int(r[f"{key}_replicas"]) for r in rows], where="post", label=label, color=color, lw=1.3)
        lag_ax.plot(t, [int(r[f"{key}_lag"]) for r in rows], label=label, color=color, lw=1.0)
    rin = rep_ax.twinx()
    rin.plot(t, [float(r["in"]) if float(r["in"]) < 5000 else None for r in rows], color="gray", lw=0.6, alpha=0.5)
    rin.set_ylabel("input msgs/s", color="gray")
    rep_ax.set_title(f"{name}: replicas (grey: input rate)")
    lag_ax.set_title(f"{name}: lag (messages)")
    rep_ax.set_ylabel("replicas")
    lag_ax.set_ylabel("lag")
    if row == len(scenarios) - 1:
        rep_ax.set_xlabel("seconds")
        lag_ax.set_xlabel("seconds")
axes[0][1].legend(loc="upper right", fontsize=8)
fig.tight_layout()
fig.savefig(png, dpi=90)
print(png)

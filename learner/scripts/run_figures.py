#!/usr/bin/env python3
"""Figures of one `rollstream run` from its report: held-out accuracy over wall time, time to a
target accuracy, trained and sampled tokens/s, where the learner's time went (its train_seconds,
publish_seconds and wait_seconds per step), and GPU utilisation from nvidia-smi samples.

    run_figures.py RUN_DIR [--log RUN.log] [--smi SMI.csv] [--target 0.5,0.6]

RUN_DIR/report/metrics.csv (step,kind,name,value,timestamp_ms) is what the learner wrote; the
clock starts at the first GRPO event (after the cold start). SMI.csv: nvidia-smi
--query-gpu=timestamp,index,utilization.gpu,memory.used --format=csv,noheader,nounits samples;
utilisation is averaged per GPU over the GRPO phase. RUN.log: the run's output, for the summary
table's "tokens generated".
"""
import argparse
import csv
import datetime as dt
import json
import re
import sys
from pathlib import Path


def main():
    p = argparse.ArgumentParser()
    p.add_argument("run_dir")
    p.add_argument("--log")
    p.add_argument("--smi")
    p.add_argument("--target", default="")
    a = p.parse_args()
    report = Path(a.run_dir) / "report" / "metrics.csv"  # absent when the run was cut short
    rows = list(csv.reader(open(report if report.exists() else Path(a.run_dir) / "metrics.csv")))
    if rows and not rows[0][0].lstrip("-").isdigit():
        rows = rows[1:]
    ev = [(int(r[0]), r[1], r[2], float(r[3]), int(r[4])) for r in rows if len(r) >= 5]
    grpo = [e for e in ev if e[1] == "train"]
    if not grpo:
        sys.exit("no GRPO step in " + a.run_dir)
    evals = sorted((e[4], e[0], e[3]) for e in ev if e[1] == "eval" and e[2] == "heldout_accuracy")
    cold = [x for x in evals if x[1] == 0]
    t0 = cold[-1][0] if cold else grpo[0][4] - 1
    t_end = max(e[4] for e in grpo)
    out = {"run": a.run_dir, "grpo_steps": max(e[0] for e in grpo), "grpo_seconds": round((t_end - t0) / 1000, 1)}
    out["accuracy"] = [(round((t - t0) / 1000, 1), s, round(v, 4)) for t, s, v in evals]
    for target in [float(x) for x in a.target.split(",") if x]:
        hit = [x for x in evals if x[1] > 0 and x[2] >= target]
        out[f"seconds_to_{target}"] = round((hit[0][0] - t0) / 1000, 1) if hit else None
    # the learner's wall time over the GRPO phase, by what it did (train_seconds and friends, one per step)
    spent = {k: sum(e[3] for e in grpo if e[2] == k + "_seconds") for k in ("train", "publish", "wait")}
    if spent["train"] > 0:
        wall = max((t_end - t0) / 1000, 1e-9)
        out["learner_seconds"] = {k: round(v, 1) for k, v in spent.items()}
        out["learner_share"] = {k: round(v / wall, 3) for k, v in spent.items()}
        # everything but the GRPO computation itself: waiting for groups, hand-over, evaluation, bookkeeping
        out["learner_overhead_share"] = round(1 - spent["train"] / wall, 3)
    tps = [e[3] for e in grpo if e[2] == "tokens_per_s"]
    out["trained_tokens_per_s"] = round(tps[-1], 1) if tps else None
    if a.log:
        m = re.search(r"tokens generated\s+(\d+)", open(a.log, errors="replace").read())
        if m:
            out["tokens_generated"] = int(m.group(1))
            out["sampled_tokens_per_s_over_grpo"] = round(int(m.group(1)) / max((t_end - t0) / 1000, 1e-9), 1)
    if a.smi:
        per = {}
        for line in open(a.smi):
            f = [x.strip() for x in line.split(",")]
            if len(f) != 4:
                continue
            try:
                t = dt.datetime.strptime(f[0], "%Y/%m/%d %H:%M:%S.%f").replace(tzinfo=dt.timezone.utc).timestamp() * 1000
            except ValueError:
                continue
            if t0 <= t <= t_end:
                per.setdefault(f[1], []).append((float(f[2]), float(f[3])))
        out["gpu_utilisation_mean_pct"] = {k: round(sum(u for u, _ in v) / len(v), 1) for k, v in per.items()}
        out["gpu_memory_max_gib"] = {k: round(max(m for _, m in v) / 1024, 2) for k, v in per.items()}
    print(json.dumps(out))


if __name__ == "__main__":
    main()

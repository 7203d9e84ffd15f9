#!/usr/bin/env python3
"""Figures of one `rollstream run` from its report: held-out accuracy over wall time, time to a
target accuracy (first evaluation at or above it; the same without the evaluations' own time; and
the first evaluation whose mean with the one before reaches it), trained and sampled tokens/s, where the learner's time went (its train_seconds,
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
    # each evaluation's own duration: its event comes after evaluate() returns, the step's train event before it
    train_at = {e[0]: e[4] for e in grpo if e[2] == "train_seconds"}
    eval_ms = {s: t - train_at[s] for t, s, _ in evals if s in train_at}
    out["evaluation_seconds"] = round(sum(eval_ms.values()) / 1000, 1)

    def clock(t, s):  # (wall seconds, seconds without the evaluations up to and including step s's)
        spent = sum(v for k, v in eval_ms.items() if k <= s)
        return round((t - t0) / 1000, 1), round((t - t0 - spent) / 1000, 1)

    grpo_evals = [x for x in evals if x[1] > 0]
    for target in [float(x) for x in a.target.split(",") if x]:
        hit = [x for x in grpo_evals if x[2] >= target]
        out[f"seconds_to_{target}"] = clock(hit[0][0], hit[0][1])[0] if hit else None
        out[f"seconds_to_{target}_without_evaluation"] = clock(hit[0][0], hit[0][1])[1] if hit else None
        # less noisy: the first evaluation where the mean of it and the one before reaches the target
        pairs = [(b[0], b[1]) for p, b in zip(evals, evals[1:]) if b[1] > 0 and (p[2] + b[2]) / 2 >= target]
        out[f"seconds_to_{target}_mean_of_2"] = clock(*pairs[0]) if pairs else None
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

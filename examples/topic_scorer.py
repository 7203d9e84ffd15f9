#!/usr/bin/env python3
"""A reward scorer for Rollstream's topic protocol, standard library only.

Run it behind the score bridge, which does the Kafka and Avro side:

    rollstream score-bridge --component judge -- python3 examples/topic_scorer.py
    rollstream scorer --rewards 'accuracy=1.0,judge=0.5,judge.type=topic'

The bridge writes one JSON line per sampled group to stdin:

    {"group_id": "...", "prompt_id": "...", "task": "arithmetic", "prompt": "...", "answer": "85",
     "fields": {...}, "policy_version": 3, "component": "judge",
     "completions": [{"index": 0, "text": "...", "finish_reason": "STOP", "tokens": 12}, ...]}

and expects one JSON line per group on stdout, in any order (the JSON variant of PartialReward):

    {"group_id": "...", "rewards": [1.0, 0.0, ...], "parts": {"has_think": [1.0, 0.0, ...], "chars": [41.0, 7.0, ...]}}

or {"group_id": "...", "error": "why it cannot be scored"} to dead-letter the group with that reason.
Anything written to stderr shows in the bridge's log. Replace judge() with your own scoring.
"""
import json
import re
import sys

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def judge(completion, answer):
    """Returns (reward, parts) for one completion: 1.0 when the last <answer> holds the reference."""
    found = ANSWER.findall(completion)
    correct = 1.0 if found and found[-1].strip() == str(answer).strip() else 0.0
    has_think = 1.0 if "<think>" in completion and "</think>" in completion else 0.0
    return correct, {"has_think": has_think, "chars": float(len(completion))}


def score(group):
    completions = group.get("completions") or []
    if not completions:
        return {"group_id": group["group_id"], "error": "group has no completions"}
    rewards, parts = [], {}
    for c in completions:
        r, p = judge(c.get("text", ""), group.get("answer", ""))
        rewards.append(r)
        for k, v in p.items():
            parts.setdefault(k, []).append(v)
    return {"group_id": group["group_id"], "rewards": rewards, "parts": parts}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            group = json.loads(line)
        except ValueError as e:
            print("topic_scorer: skipping a line that is not JSON: %s" % e, file=sys.stderr)
            continue
        try:
            out = score(group)
        except Exception as e:  # report, never guess a reward
            out = {"group_id": group.get("group_id", ""), "error": "scorer failed: %r" % (e,)}
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""A reward server for Rollstream's HTTP scorer, standard library only.

    python3 examples/http_reward_server.py --port 8000
    rollstream run --rewards 'accuracy=1.0,judge=0.5,judge.type=http,judge.url=http://127.0.0.1:8000/score'

It speaks both request formats of the HTTP scorer (see docs/external-scorers.md):

  rollstream:  {"protocol": "rollstream.reward.v1", "reward": "judge", "group_id": "...",
                "items": [{"prompt": ..., "completion": ..., "answer": ..., "fields": {...}, ...}]}
  openrlhf:    {"query": [prompt + completion, ...], "prompts": [...], "labels": [...]}

and answers {"rewards": [...], "components": {...}, "info": {...}} with one reward per item.

The reward here is a toy judge: 1.0 when the text inside the last <answer>...</answer> equals the
reference answer, else 0.0; a "brevity" component (1 / (1 + words / 50)) rides along for inspection.
Replace judge() with your model or API call.

--delay-first N:SECONDS makes the first N requests wait that long before answering, to show how the
scorer's timeout and retries behave with a slow server.
"""
import argparse
import json
import re
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = re.compile(r"<answer>(.*?)</answer>", re.S)


def judge(prompt, completion, answer):
    """Returns (reward, components) for one completion."""
    found = ANSWER.findall(completion)
    correct = 1.0 if found and found[-1].strip() == str(answer).strip() else 0.0
    brevity = 1.0 / (1.0 + len(completion.split()) / 50.0)
    return correct, {"correct": correct, "brevity": round(brevity, 6)}


class State:
    lock = threading.Lock()
    requests = 0
    delay_first = 0
    delay_seconds = 0.0


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        with State.lock:
            State.requests += 1
            n = State.requests
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if n <= State.delay_first:
            time.sleep(State.delay_seconds)
        try:
            req = json.loads(body)
        except ValueError as e:
            return self.reply(400, {"error": "request is not JSON: %s" % e})
        if "items" in req:
            items = [(i.get("prompt", ""), i.get("completion", ""), i.get("answer", "")) for i in req["items"]]
        elif "query" in req:
            prompts = req.get("prompts") or [""] * len(req["query"])
            labels = req.get("labels") or [""] * len(req["query"])
            items = [(p, q[len(p):] if q.startswith(p) else q, a) for q, p, a in zip(req["query"], prompts, labels)]
        else:
            return self.reply(400, {"error": "expected 'items' (rollstream) or 'query' (openrlhf)"})
        rewards, components = [], {}
        for prompt, completion, answer in items:
            r, parts = judge(prompt, completion, answer)
            rewards.append(r)
            for k, v in parts.items():
                components.setdefault(k, []).append(v)
        self.reply(200, {"rewards": rewards, "components": components, "info": {"request": n}})

    def do_GET(self):
        self.reply(200, {"status": "ok", "requests": State.requests})

    def reply(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, fmt, *args):
        pass  # quiet: one line per request would drown the scorer's output


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8000, help="0 picks a free port")
    ap.add_argument("--delay-first", default="0:0", metavar="N:SECONDS")
    args = ap.parse_args()
    n, s = args.delay_first.split(":")
    State.delay_first, State.delay_seconds = int(n), float(s)
    server = ThreadingHTTPServer((args.host, args.port), Handler)
    server.daemon_threads = True
    print("listening on http://%s:%d/score" % (args.host, server.server_address[1]), flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())

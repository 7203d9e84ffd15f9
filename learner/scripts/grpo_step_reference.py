#!/usr/bin/env python3
"""One GRPO learner step in plain PyTorch: the reference for `rollstream bench learner`.

The same model and loss as Rollstream's learner (GrpoTrainer + GrpoLoss + AdamW):
  * GPT-2 decoder: learned positions, pre-LayerNorm blocks (eps 1e-5), causal multi-head attention,
    tanh-GELU MLP of 4C, final LayerNorm, output head tied to the token embedding;
  * a step = proximal log-probs (policy at step start) and reference log-probs (frozen copy), both
    under no_grad; then forward with grad, the decoupled GRPO loss per completion token
        r = exp(logp - prox), pg = -min(r*A, clip(r, 1-0.2, 1+0.28)*A) * min(exp(prox - mu), 2)
        kl = exp(ref - logp) - (ref - logp) - 1  (k3),  loss_t = pg + 0.005*kl,  token mean
    backward, global-norm clip 1.0, AdamW (lr 1e-4, betas 0.9/0.999, eps 1e-8, no decay);
  * log-probs gathered as logit[target] - logsumexp(logits): no full log-softmax is kept.

Batch: G groups x S samples (default 8 x 8 = 64 rows) of --seq tokens (default 320), the first
--prompt (default 64) being the prompt; every later position is a completion token. Random token
ids, rewards and behaviour log-probs (prox + noise), fixed seed.

Prints, per precision: median/min/max step time over --steps timed steps after --warmup,
torch.cuda.max_memory_allocated over the timed steps (weights, Adam state and activations),
max_memory_reserved (the caching allocator's peak) and the device memory in use at the end
(reserved + CUDA context: the figure comparable to `bench learner`'s cudaMemGetInfo peak).
    python3 grpo_step_reference.py --vocab 98 --precision fp32,bf16
    python3 grpo_step_reference.py --vocab 50257 --precision fp32,bf16
"""
import argparse
import copy
import json
import math
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, c, heads, attention):
        super().__init__()
        self.heads, self.attention = heads, attention
        self.ln_1 = nn.LayerNorm(c, eps=1e-5)
        self.c_attn = nn.Linear(c, 3 * c)
        self.c_proj = nn.Linear(c, c)
        self.ln_2 = nn.LayerNorm(c, eps=1e-5)
        self.c_fc = nn.Linear(c, 4 * c)
        self.mlp_proj = nn.Linear(4 * c, c)

    def forward(self, x):
        b, t, c = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(c, dim=2)
        q, k, v = (z.view(b, t, self.heads, c // self.heads).transpose(1, 2) for z in (q, k, v))
        if self.attention == "sdpa":
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        else:  # explicit softmax(QK^T/sqrt(d) + mask) V, as DJL's block computes it
            att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))
            mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
            att = att.masked_fill(~mask, torch.finfo(att.dtype).min).softmax(dim=-1)  # -1e9 overflows fp16
            y = att @ v
        x = x + self.c_proj(y.transpose(1, 2).reshape(b, t, c))
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate="tanh"))


class Gpt2(nn.Module):
    def __init__(self, vocab, c, layers, heads, context, attention):
        super().__init__()
        self.wte = nn.Embedding(vocab, c)
        self.wpe = nn.Embedding(context, c)
        self.h = nn.ModuleList(Block(c, heads, attention) for _ in range(layers))
        self.ln_f = nn.LayerNorm(c, eps=1e-5)
        for p in self.parameters():
            if p.dim() > 1:
                nn.init.normal_(p, std=0.02)

    def token_log_probs(self, tokens):
        """(B, T-1): log p(tokens[t+1] | tokens[..t]), without a full log-softmax."""
        t = tokens.shape[1]
        x = self.wte(tokens) + self.wpe(torch.arange(t, device=tokens.device))
        for block in self.h:
            x = block(x)
        logits = self.ln_f(x)[:, :-1] @ self.wte.weight.t()
        target = tokens[:, 1:].unsqueeze(-1)
        # fp32 for the normaliser under autocast too; .float() is a no-op in fp32
        return logits.gather(-1, target).squeeze(-1).float() - logits.float().logsumexp(-1)


def grpo_loss(logp, prox, ref, behaviour, mask, adv, clip_low=0.2, clip_high=0.28, beta=0.005, cap=2.0):
    a = adv.unsqueeze(1)
    ratio = (logp - prox).exp()
    pg = -torch.minimum(ratio * a, ratio.clamp(1 - clip_low, 1 + clip_high) * a)
    pg = pg * (prox - behaviour).exp().clamp(max=cap)
    d = ref - logp
    per_token = pg + beta * (d.exp() - d - 1)
    return (per_token * mask).sum() / mask.sum().clamp(min=1)


def make_batch(vocab, groups, samples, seq, prompt, device, gen):
    rows = groups * samples
    tokens = torch.randint(0, vocab, (rows, seq), generator=gen).to(device)
    mask = torch.zeros(rows, seq - 1)
    mask[:, prompt - 1:] = 1  # position t predicts token t+1: completion tokens are prompt..seq-1
    rewards = torch.rand(groups, samples, generator=gen)
    adv = ((rewards - rewards.mean(1, keepdim=True)) / (rewards.std(1, keepdim=True) + 1e-6)).reshape(rows)
    noise = 0.05 * torch.randn(rows, seq - 1, generator=gen)
    return tokens, mask.to(device), adv.to(device), noise.to(device)


def run(args, precision):
    torch.manual_seed(args.seed)
    dev = torch.device(args.device)
    model = Gpt2(args.vocab, args.width, args.layers, args.heads, max(args.context, args.seq), args.attention).to(dev)
    reference = copy.deepcopy(model).requires_grad_(False).eval()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)
    gen = torch.Generator().manual_seed(args.seed)
    tokens, mask, adv, noise = make_batch(args.vocab, args.groups, args.samples, args.seq, args.prompt, dev, gen)
    half = {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision)
    autocast = torch.autocast("cuda", dtype=half or torch.float32, enabled=half is not None)
    # fp16 needs a loss scale (dynamic, as the learner's); bf16 and fp32 do not
    scaler = torch.amp.GradScaler("cuda", enabled=precision == "fp16")

    def step():
        with torch.no_grad(), autocast:
            prox = model.token_log_probs(tokens)
            ref = reference.token_log_probs(tokens)
        behaviour = prox + noise
        with autocast:
            logp = model.token_log_probs(tokens)
        loss = grpo_loss(logp, prox, ref, behaviour, mask, adv)
        opt.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        scaler.unscale_(opt)
        norm = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        scaler.step(opt)
        scaler.update()
        return loss, norm

    for _ in range(args.warmup):
        step()
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    times = []
    for _ in range(args.steps):
        t0 = time.perf_counter()
        loss, norm = step()
        loss.item()  # the step ends when its loss is on the host, as in the learner
        torch.cuda.synchronize()
        times.append((time.perf_counter() - t0) * 1000)
    peak = torch.cuda.max_memory_allocated() / 2**30
    reserved = torch.cuda.max_memory_reserved() / 2**30
    free, total = torch.cuda.mem_get_info(dev)  # device memory in use now: reserved + CUDA context
    params = sum(p.numel() for p in model.parameters())
    out = dict(precision=precision, vocab=args.vocab, width=args.width, layers=args.layers, heads=args.heads,
               rows=args.groups * args.samples, seq=args.seq, attention=args.attention, params=params,
               median_ms=round(statistics.median(times), 2), min_ms=round(min(times), 2),
               max_ms=round(max(times), 2), steps=args.steps, peak_gib=round(peak, 2),
               reserved_gib=round(reserved, 2), device_used_gib=round((total - free) / 2**30, 2),
               loss=round(loss.item(), 6), grad_norm=round(float(norm), 4),
               torch=torch.__version__, gpu=torch.cuda.get_device_name(dev))
    del model, reference, opt
    torch.cuda.empty_cache()
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--vocab", type=int, default=98)
    p.add_argument("--width", type=int, default=768)
    p.add_argument("--layers", type=int, default=12)
    p.add_argument("--heads", type=int, default=12)
    p.add_argument("--context", type=int, default=512)
    p.add_argument("--groups", type=int, default=8)
    p.add_argument("--samples", type=int, default=8)
    p.add_argument("--seq", type=int, default=320)
    p.add_argument("--prompt", type=int, default=64)
    p.add_argument("--precision", default="fp32,bf16", help="comma list of fp32, bf16, fp16 (autocast; fp16 with GradScaler)")
    p.add_argument("--attention", choices=["sdpa", "math"], default="sdpa",
                   help="sdpa: F.scaled_dot_product_attention (fused kernels); math: explicit softmax, as DJL")
    p.add_argument("--warmup", type=int, default=3)
    p.add_argument("--steps", type=int, default=10)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--device", default="cuda:0")
    p.add_argument("--json", help="append one JSON line per result to this file")
    args = p.parse_args()
    if not torch.cuda.is_available():
        sys.exit("CUDA is not available: this reference measures a GPU step")
    for precision in args.precision.split(","):
        r = run(args, precision)
        print(f"reference {precision:4s} vocab {r['vocab']:>6} {r['rows']}x{r['seq']} attention {r['attention']}: "
              f"median {r['median_ms']:.1f} ms (min {r['min_ms']:.1f}, max {r['max_ms']:.1f}, {r['steps']} steps), "
              f"peak {r['peak_gib']:.2f} GiB (reserved {r['reserved_gib']:.2f}, device in use {r['device_used_gib']:.2f}), "
              f"{r['params'] / 1e6:.1f} M params, loss {r['loss']:.4f}", flush=True)
        if args.json:
            with open(args.json, "a") as f:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()

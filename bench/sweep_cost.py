"""Benchmark b: what a sweep costs on a million activities, idle, at 0.1 % drift and right
after a version bump that makes every summary old; no sequential scan anywhere."""

from __future__ import annotations

from bench.harness import Figure, Site, fill_processed


def run(*, quick: bool) -> tuple[list[Figure], dict[str, str]]:
    size = 20_000 if quick else 1_000_000
    site = Site("sweep")
    try:
        fill_processed(site, size)
        probe = site.python("bench.sweep_probe", "--samples", "30" if quick else "300")
    finally:
        site.stop()
    plans = probe["plans"]
    scans = [name for name, text in plans.items() if "Seq Scan" in text]
    figures = [
        # The whole round besides the claim: clock, rollouts, archives, the heartbeat write.
        Figure(f"whole sweep round, idle ({size:,} activities)", "ms",
               tuple(probe["idle_round_ms"])),
        Figure(f"claim batch, idle ({size:,})", "ms", tuple(probe["idle_claim_ms"]),
               target="≤ 2 ms", met=_median(probe["idle_claim_ms"]) <= 2),
        Figure(f"claim batch of 10 at 0.1 % drift ({size // 1000:,} due)", "ms",
               tuple(probe["drift_claim_ms"])),
        Figure("claim batch of 10, right after a summary bump", "ms",
               tuple(probe["bump_claim_ms"]), target="≤ 10 ms",
               met=_median(probe["bump_claim_ms"]) <= 10),
        Figure("rollout step (1,000 activities looked at, flagged), after the bump", "ms",
               tuple(probe["bump_rollout_ms"])),
        Figure("query plans with a sequential scan", "plans", (float(len(scans)),),
               target="0", met=not scans),
    ]
    return figures, plans


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]

"""Python's concurrent.futures.ProcessPoolExecutor on the harness's workloads.

Driven by bench/bench.ts:

    python3 bench/peers/python_pool.py <workload> '<CellConfig JSON>'

prints one line: RESULT_MARK + JSON {"metrics": {name: {"median", "samples"}}, "notes": [...]},
the same answer as a JS cell (bench/cell.ts). The work is the same algorithm as
bench/peers/work.ts; the CPU-bound task's limit is calibrated here, in Python,
to about 100 ms, and compared with Python's own sequential run.
"""

import json
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

RESULT_MARK = "@@BENCH-RESULT "
IDLE_S = 1.0


def square(n):
    return n * n


def count_primes(limit):
    count = 1 if limit > 2 else 0
    for n in range(3, limit, 2):
        d = 3
        prime = True
        while d * d <= n:
            if n % d == 0:
                prime = False
                break
            d += 2
        if prime:
            count += 1
    return count


def pid(_):
    return os.getpid()


def calibrate(target_ms):
    """The limit for which count_primes takes about target_ms here."""
    limit = 20_000
    for _ in range(6):
        samples = []
        for _ in range(3):
            start = time.perf_counter()
            count_primes(limit)
            samples.append((time.perf_counter() - start) * 1000)
        ms = statistics.median(samples)
        if abs(ms - target_ms) / target_ms < 0.03:
            break
        limit = round(limit * (target_ms / ms) ** (1 / 1.4))
    return limit


def sample_runs(runs, f, warm_up=True):
    if warm_up:
        f()
    samples = {}
    for _ in range(runs):
        for key, value in f().items():
            samples.setdefault(key, []).append(value)
    return {k: {"median": statistics.median(v), "samples": v} for k, v in samples.items()}


def vm_rss_mb(p):
    try:
        with open(f"/proc/{p}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")


def tiny(config, ex):
    n = config["tinyTasks"]

    def run():
        start = time.perf_counter()
        futures = [ex.submit(square, i) for i in range(n)]
        results = [f.result() for f in futures]
        seconds = time.perf_counter() - start
        assert results[-1] == (n - 1) ** 2
        return {"rate": n / seconds}

    return sample_runs(config["runs"], run), []


def bulk(config, ex):
    n = config["bulkInputs"]

    def run():
        start = time.perf_counter()
        results = list(ex.map(square, range(n), chunksize=500))
        seconds = time.perf_counter() - start
        assert len(results) == n and results[-1] == (n - 1) ** 2
        return {"rate": n / seconds}

    return sample_runs(config["runs"], run), []


def cpu(config, ex):
    limit = calibrate(100)
    tasks = config["cpuTasks"]

    def run():
        start = time.perf_counter()
        list(ex.map(count_primes, [limit] * tasks))
        pool_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()
        for _ in range(tasks):
            count_primes(limit)
        sequential_ms = (time.perf_counter() - start) * 1000
        return {"ms": pool_ms, "sequentialMs": sequential_ms, "speedup": sequential_ms / pool_ms}

    ex.submit(square, 0).result()
    metrics = sample_runs(config["runs"], run)
    one = {"median": limit, "samples": [limit]}
    metrics["limit"] = one
    return metrics, [
        f"count_primes({limit:,}) here; per call {metrics['sequentialMs']['median'] / tasks:.0f} ms"
    ]


def cold(config):
    def run():
        start = time.perf_counter()
        ex = ProcessPoolExecutor(max_workers=config["workers"])
        try:
            ex.submit(square, 3).result()
            return {"ms": (time.perf_counter() - start) * 1000}
        finally:
            ex.shutdown(wait=True)

    return sample_runs(config["runs"], run), []


def idle_rss(config):
    def run():
        with ProcessPoolExecutor(max_workers=config["workers"]) as ex:
            p = ex.submit(pid, 0).result()
            time.sleep(IDLE_S)
            return {"workerRss": vm_rss_mb(p)}

    return sample_runs(config["runs"], run, warm_up=False), []


def main():
    workload, config = sys.argv[1], json.loads(sys.argv[2])
    notes = []
    if workload in ("tiny", "bulk", "cpu"):
        with ProcessPoolExecutor(max_workers=config["workers"]) as ex:
            # the warm-up run of sample_runs starts the workers
            metrics, more = {"tiny": tiny, "bulk": bulk, "cpu": cpu}[workload](config, ex)
    elif workload == "cold":
        metrics, more = cold(config)
    elif workload == "idleRss":
        metrics, more = idle_rss(config)
        notes.append(f"start method {multiprocessing.get_start_method()}")
    else:
        raise SystemExit(f"not measured for Python: {workload}")
    print("\n" + RESULT_MARK + json.dumps({"metrics": metrics, "notes": notes + more}), flush=True)


if __name__ == "__main__":
    main()

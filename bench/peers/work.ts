/**
 * The work every implementation runs, as plain functions with no imports, so
 * that each pool's worker (ours, the floor's, piscina's, workerpool's,
 * tinypool's, Effect RPC's) runs exactly the same code. Python's peer runs the
 * same algorithm in bench/peers/python_pool.py.
 */

/** The tiny task: a number's square. */
export const square = (n: number): number => n * n

/** The tiny task over a batch (manual batching for pools without chunking). */
export const squares = (xs: ReadonlyArray<number>): Array<number> => xs.map((x) => x * x)

/**
 * The CPU-bound task: the number of primes below `limit`, by trial division.
 * The harness calibrates `limit` so that one call takes about 100 ms.
 */
export const countPrimes = (limit: number): number => {
  let count = limit > 2 ? 1 : 0
  for (let n = 3; n < limit; n += 2) {
    let prime = true
    for (let d = 3; d * d <= n; d += 2) {
      if (n % d === 0) {
        prime = false
        break
      }
    }
    if (prime) count++
  }
  return count
}

/** A task busy in a synchronous loop for `ms` milliseconds: only killing its worker stops it early. */
export const spin = (ms: number): number => {
  const end = Date.now() + ms
  let turns = 0
  while (Date.now() < end) turns++
  return turns
}

/** The `limit` for which `countPrimes(limit)` takes about `targetMs` here (after warming the JIT). */
export const calibrateCountPrimes = (targetMs: number): number => {
  const time = (limit: number) => {
    const samples: Array<number> = []
    for (let i = 0; i < 3; i++) {
      const start = performance.now()
      countPrimes(limit)
      samples.push(performance.now() - start)
    }
    return samples.sort((a, b) => a - b)[1]!
  }
  for (let i = 0; i < 5; i++) countPrimes(100_000)
  let limit = 200_000
  for (let i = 0; i < 6; i++) {
    const ms = time(limit)
    // the cost grows about as limit^1.5 / log(limit): a few steps of this converge
    limit = Math.round(limit * (targetMs / ms) ** (1 / 1.4))
    if (Math.abs(ms - targetMs) / targetMs < 0.03) break
  }
  return limit
}

/**
 * This tree's pool against an earlier commit's, side by side in one run, on
 * workloads 1–4 of `npm run bench` (processes, `bench/cell.ts` with the
 * bench's settings: five timed runs a cell after a warm-up):
 *
 *   npm run bench:before-after -- <commit> [tiny,bulk,cpu,cold] [pairs]
 *
 * The commit is checked out in a temporary worktree that shares this tree's
 * `node_modules`; each of its cells runs its own `bench/cell.ts`. A pair runs
 * both trees one after the other, the order alternating from pair to pair: on
 * this host the second cell of a pair runs a few percent slower than the
 * first (measured: ~7% on workload 2), which a fixed order would charge to
 * one side. Each figure's answer is the geometric mean of the pairs' ratios
 * (speed, this tree ÷ the commit: above 1 is faster) with a bootstrap 95%
 * interval; a noisy 2-core host asks for 10 pairs or more.
 */
import * as NodeChildProcess from "node:child_process"
import * as NodeFs from "node:fs"
import * as NodeOs from "node:os"
import * as NodePath from "node:path"
import { RESULT_MARK } from "./isolated.ts"
import { calibrateCountPrimes } from "./peers/work.ts"

const [base, workloadList = "tiny,bulk,cpu,cold", pairArg = "10"] = process.argv.slice(2)
if (base === undefined) {
  process.stderr.write(
    "usage: [BENCH_WORKER_TYPE=thread] npm run bench:before-after -- <commit> [tiny,bulk,cpu,cold] [pairs]\n"
  )
  process.exit(2)
}
const pairs = Number(pairArg)
/** the kind of worker both trees' pools use: processes, or threads with BENCH_WORKER_TYPE=thread */
const workerType = process.env.BENCH_WORKER_TYPE === "thread" ? "thread" : "process"
const workloads = workloadList.split(",")
/** the figures of each workload, and whether lower is better */
const FIGURES: Record<string, ReadonlyArray<readonly [string, boolean]>> = {
  tiny: [["rate", false]],
  bulk: [["rate", false]],
  cpu: [
    ["ms", true],
    ["speedup", false]
  ],
  cold: [["ms", true]]
}
for (const w of workloads) if (!(w in FIGURES)) throw new Error(`not one of workloads 1-4: ${w}`)

const here = NodePath.resolve(import.meta.dirname, "..")
const git = (...args: Array<string>) =>
  NodeChildProcess.execFileSync("git", args, { cwd: here, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim()
const commit = git("rev-parse", "--verify", `${base}^{commit}`)
const other = NodeFs.mkdtempSync(NodePath.join(NodeOs.tmpdir(), "epp-before-after-"))
git("worktree", "add", "--detach", other, commit)
NodeFs.symlinkSync(NodePath.join(here, "node_modules"), NodePath.join(other, "node_modules"))

// the bench's settings (bench/bench.ts), the CPU-bound task calibrated once for both trees
const config = {
  runs: 5,
  workers: 2,
  tinyTasks: 20_000,
  bulkInputs: 1_000_000,
  batch: 1_000,
  cpuTasks: 16,
  burnLimit: calibrateCountPrimes(100),
  spinMs: 3_000,
  streamInputs: 100_000,
  bytesSize: 16 * 1024 * 1024,
  workerType
}

const cell = (dir: string, workload: string): Record<string, { readonly median: number }> => {
  const out = NodeChildProcess.execFileSync(
    process.execPath,
    [
      "--conditions=effect-process-pool:source",
      "--expose-gc",
      NodePath.join(dir, "bench/cell.ts"),
      "ours",
      workload,
      JSON.stringify(config)
    ],
    {
      cwd: dir,
      encoding: "utf8",
      timeout: 300_000,
      stdio: ["ignore", "pipe", "ignore"],
      env: { ...process.env, EFFECT_PROCESS_POOL_WORKER_TYPE: workerType }
    }
  )
  const line = out.split("\n").find((l) => l.startsWith(RESULT_MARK))
  if (line === undefined) throw new Error(`no result from ${dir} on ${workload}`)
  return JSON.parse(line.slice(RESULT_MARK.length)).metrics
}

const geometricMean = (logs: ReadonlyArray<number>) => Math.exp(logs.reduce((a, b) => a + b, 0) / logs.length)

/** A bootstrap 95% interval of the geometric mean (a fixed seed: the same pairs give the same interval). */
const interval = (logs: ReadonlyArray<number>): readonly [number, number] => {
  let seed = 42
  const random = () => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const means: Array<number> = []
  for (let b = 0; b < 10_000; b++) {
    const sample: Array<number> = []
    for (let i = 0; i < logs.length; i++) sample.push(logs[Math.floor(random() * logs.length)]!)
    means.push(geometricMean(sample))
  }
  means.sort((a, b) => a - b)
  return [means[250]!, means[9_750]!]
}

try {
  process.stdout.write(`this tree (${here}) ÷ ${commit.slice(0, 12)}, ${pairs} pairs a workload\n`)
  for (const workload of workloads) {
    const logs = new Map<string, Array<number>>()
    for (let i = 0; i < pairs; i++) {
      const thisFirst = i % 2 === 1
      const first = cell(thisFirst ? here : other, workload)
      const second = cell(thisFirst ? other : here, workload)
      const [now, before] = thisFirst ? [first, second] : [second, first]
      for (const [figure, lowerIsBetter] of FIGURES[workload]!) {
        const ratio = lowerIsBetter
          ? before[figure]!.median / now[figure]!.median
          : now[figure]!.median / before[figure]!.median
        const list = logs.get(figure) ?? []
        list.push(Math.log(ratio))
        logs.set(figure, list)
        process.stdout.write(
          `  ${workload} ${figure} pair ${i + 1} (${thisFirst ? "this tree" : "the commit"} first): ` +
            `${before[figure]!.median.toFixed(1)} → ${now[figure]!.median.toFixed(1)}, speed ${ratio.toFixed(3)}\n`
        )
      }
    }
    for (const [figure, list] of logs) {
      const [low, high] = interval(list)
      process.stdout.write(
        `${workload} ${figure}: speed this tree ÷ the commit ${geometricMean(list).toFixed(3)} ` +
          `(95% interval ${low.toFixed(3)}–${high.toFixed(3)}, ${list.length} pairs)\n`
      )
    }
  }
} finally {
  // the link first: the worktree's removal must not reach this tree's node_modules
  NodeFs.unlinkSync(NodePath.join(other, "node_modules"))
  git("worktree", "remove", "--force", other)
  NodeFs.rmSync(other, { recursive: true, force: true })
}

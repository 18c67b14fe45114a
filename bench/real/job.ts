/**
 * The render job of bench/real.ts (workloads 1 and 2), one implementation in
 * a process of its own: `marked` over the files whose paths it is given, on 2
 * workers (or in this process, for the sequential job).
 *
 *   node --conditions=effect-process-pool:source bench/real/job.ts <sequential|ours|piscina> <warm|cold> '<JobConfig JSON>'
 *
 * - `warm` (workload 1): the pool is made once, runs the job once untimed (the
 *   workers load `marked`, the JIT warms up, the files are in the page cache),
 *   then `runs` times timed; answers each run's wall time.
 * - `cold` (workload 2): one run, timed from before the pool is made to the
 *   last result with the pool shut down; for the sequential job, from before
 *   `marked` is imported. The program then ends by itself, as a user's would
 *   (no `process.exit`): a pool that left a handle open would keep it alive,
 *   and the harness's whole-process time would show it.
 *
 * This entry imports nothing but the implementation it runs, so that a
 * whole-process time counts that implementation's start-up only.
 */
import { RESULT_MARK } from "../resultMark.ts"
import type { Job, JobConfig } from "./jobConfig.ts"

const jobs: Record<string, () => Promise<Job>> = {
  sequential: () => import("./sequentialJob.ts"),
  ours: () => import("./oursJob.ts"),
  piscina: () => import("./piscinaJob.ts")
}

const [kind, mode, json] = process.argv.slice(2)
const load = jobs[kind!]
if (load === undefined || (mode !== "warm" && mode !== "cold")) {
  throw new Error(`usage: job.ts <${Object.keys(jobs).join("|")}> <warm|cold> '<JobConfig JSON>'`)
}
const job = await load()
const config = JSON.parse(json!) as JobConfig
try {
  const answer = mode === "warm" ? await job.warm(config) : await job.cold(config)
  process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(answer)}\n`)
} catch (error) {
  // the harness quotes the last lines of stderr: the error's name and message, not the end of a dump
  process.stderr.write(`\n${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}\n`)
  process.exitCode = 1
}

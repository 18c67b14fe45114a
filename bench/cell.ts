/**
 * One cell of the benchmark: one implementation on one workload, in a process
 * of its own (so that a broken peer can be killed with everything it started,
 * and one cell's heap or workers cannot disturb the next). Started by
 * bench/bench.ts; prints its answer as one JSON line after RESULT_MARK.
 *
 *   node --conditions=effect-process-pool:source --expose-gc bench/cell.ts <impl> <workload> '<CellConfig JSON>'
 */
import {
  type CellConfig,
  type CellResult,
  type CellWorkload,
  RESULT_MARK,
  STEADY_WARM_UP_MS,
  setWarmUpMs
} from "./kit.ts"

const measure = async (impl: string, workload: CellWorkload, config: CellConfig): Promise<CellResult> => {
  switch (impl) {
    case "ours":
      return (await import("./impls/ours.ts")).measure(workload, config)
    case "floor":
      return (await import("./impls/floor.ts")).measure(workload, config)
    case "thread-floor":
      return (await import("./impls/threadFloor.ts")).measure(workload, config)
    case "piscina":
      return (await import("./impls/promisePool.ts")).measure(
        (await import("./impls/piscina.ts")).open,
        workload,
        config
      )
    case "workerpool":
      return (await import("./impls/promisePool.ts")).measure(
        (await import("./impls/workerpool.ts")).open,
        workload,
        config
      )
    case "tinypool":
      return (await import("./impls/promisePool.ts")).measure(
        (await import("./impls/tinypool.ts")).open,
        workload,
        config
      )
    case "effect-rpc":
      return (await import("./impls/effectRpc.ts")).measure(workload, config)
    default:
      throw new Error(`unknown implementation: ${impl}`)
  }
}

const [impl, workload, json] = process.argv.slice(2)
if (workload === "tiny" || workload === "bulk") setWarmUpMs(STEADY_WARM_UP_MS)
const result = await measure(impl!, workload as CellWorkload, JSON.parse(json!) as CellConfig)
process.stdout.write(`\n${RESULT_MARK}${JSON.stringify(result)}\n`)
// a pool that left a handle open must not keep the cell alive: the harness checks for leftover processes
process.exit(0)

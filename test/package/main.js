// A new user's program, in plain JavaScript, against the installed package.
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import { Effect } from "effect"
import { ProcessPool } from "effect-process-pool"
import { countPrimes } from "./primes.js"

const program = Effect.gen(function* () {
  const counts = yield* ProcessPool.map(countPrimes, [10, 100, 1000, 10000, 100000])
  console.log(JSON.stringify(counts))
})

program.pipe(Effect.provide(ProcessPool.layer({ maxWorkers: 2 })), NodeRuntime.runMain)

/**
 * The floor for the CPU-bound and interruption workloads: a bare forked child,
 * no framework, that runs `[name, argument]` messages synchronously and answers
 * with the result. (bench/floorChild.ts is the floor for tiny tasks.)
 */
import { countPrimes, spin, square } from "./work.ts"

process.on("message", (m: unknown) => {
  const [name, arg] = m as readonly [string, number]
  process.send!(name === "countPrimes" ? countPrimes(arg) : name === "spin" ? spin(arg) : square(arg))
})

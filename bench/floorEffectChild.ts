/**
 * The floor with `effect` loaded: a bare child that first imports what any
 * task module of this library needs (`effect/Effect`, `effect/Schema`), then
 * answers each IPC message at once. The difference to bench/floorChild.ts is
 * what loading `effect` costs a process, whatever pool runs it.
 */
import "effect/Effect"
import "effect/Schema"

process.on("message", (m: unknown) => {
  if (Array.isArray(m)) process.send!(m.map((x: number) => x * x))
  else process.send!((m as number) * (m as number))
})

/**
 * The floor with `effect` loaded: a bare child that first imports what any
 * task module of this library needs (`effect/Effect`, `effect/Schema`), then
 * answers as bench/floorChild.ts does (imports are evaluated in order). The
 * difference to the bare floor is what loading `effect` costs a process,
 * whatever pool runs it.
 */
import "effect/Effect"
import "effect/Schema"
import "./floorChild.ts"

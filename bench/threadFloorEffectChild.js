/**
 * The thread floor with `effect` loaded: a bare worker thread that first
 * imports what any task module of this library needs (`effect/Effect`,
 * `effect/Schema`), then answers as bench/threadFloorChild.js does. What
 * loading `effect` costs a thread (each thread is an isolate of its own and
 * loads its modules again), whatever pool runs it; the cold-start
 * target for threads is measured against this one. Plain JavaScript, as
 * bench/threadFloorChild.js says why.
 */
import "effect/Effect"
import "effect/Schema"
import "./threadFloorChild.js"

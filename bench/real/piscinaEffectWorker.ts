/**
 * piscina's worker file of bench/real/piscinaWorker.ts, importing first what
 * a task module of ours written with Effect's Schema loads in each worker
 * (bench/real/markdown.ts): the start-up job's row that tells the cost of
 * loading `effect` in a thread from the cost of the pool. No compile cache:
 * piscina's threads have none (ours turn Node's on).
 */
import "effect/Effect"
import "effect/Schema"

export { default, renderText } from "./piscinaWorker.ts"

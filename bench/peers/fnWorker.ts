/**
 * The worker file of piscina and tinypool: each task is a named export, picked
 * with the `name` run option (the default export squares a number).
 */
import { square } from "./work.ts"

export { countPrimes, spin, square, squares } from "./work.ts"

/** The process the task ran in (for threads, the parent's own). */
export const pid = (): number => process.pid

export default square

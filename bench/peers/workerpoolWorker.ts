/** workerpool's worker script (forked as a process: `workerType: "process"`): registers the tasks by name. */
import workerpool from "workerpool"
import { countPrimes, spin, square, squares } from "./work.ts"

workerpool.worker({ square, squares, countPrimes, spin, pid: () => process.pid })

/**
 * The process floor: a bare child that writes `count` elements to its stdout,
 * a pipe, as newline-delimited JSON batches of `FLOOR_BATCH`, waiting for the
 * pipe to drain when it is full (the kernel's back-pressure). No framework.
 */
import { element, FLOOR_BATCH } from "./elements.ts"

const count = Number(process.argv[2])
let i = 0
const write = (): void => {
  while (i < count) {
    const batch = []
    for (let j = 0; j < FLOOR_BATCH && i < count; j++) batch.push(element(i++))
    if (!process.stdout.write(`${JSON.stringify(batch)}\n`)) return void process.stdout.once("drain", write)
  }
}
write()

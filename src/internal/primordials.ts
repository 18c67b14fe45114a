/**
 * References to the globals the pool's own machinery uses, taken when this
 * module is first imported: in a worker, before any task's code runs (the
 * worker's entry imports the runtime, and with it this module, before it takes
 * a job). A task may replace `JSON.stringify`, `globalThis.JSON`,
 * `Buffer.from`, `fs.writeSync` (through `module.syncBuiltinESMExports`) or
 * `process.exit`, by accident (a polyfill, a test helper) or not; the channel,
 * the outbox and the runtime's exit go on using the originals, so that such a
 * task cannot change what later callers on its worker are answered, nor make
 * its worker hang. Node's core does the same with its own primordials.
 *
 * What this covers is the pool's path from a job to its answer and out of the
 * process; it cannot make a worker proof against a task that sets out to break
 * it (README, "What a task can do to its worker").
 *
 * @internal
 */
import * as NodeFs from "node:fs"

const { bind, call } = Function.prototype
/** `f.call` as a plain function, immune to later changes of `Function.prototype.call` (Node's `uncurryThis`). */
export const uncurryThis: <T, A extends ReadonlyArray<unknown>, R>(
  f: (this: T, ...args: A) => R
) => (self: T, ...args: A) => R = bind.bind(call) as never

export const JSONStringify: typeof JSON.stringify = JSON.stringify
export const NumberIsFinite: typeof Number.isFinite = Number.isFinite
export const JSONParse: typeof JSON.parse = JSON.parse
export const BufferFrom: typeof Buffer.from = Buffer.from.bind(Buffer)
export const BufferConcat: typeof Buffer.concat = Buffer.concat.bind(Buffer)
export const BufferAllocUnsafe: typeof Buffer.allocUnsafe = Buffer.allocUnsafe.bind(Buffer)
export const FsWriteSync: typeof NodeFs.writeSync = NodeFs.writeSync
export const FsFstatSync: typeof NodeFs.fstatSync = NodeFs.fstatSync
export const AtomicsWait: typeof Atomics.wait = Atomics.wait
export const SetImmediate: typeof setImmediate = setImmediate
export const SetTimeout: typeof setTimeout = setTimeout
export const QueueMicrotask: typeof queueMicrotask = queueMicrotask
export const PerformanceNow: () => number = performance.now.bind(performance)
export const ObjectHasOwn: (o: object, key: PropertyKey) => boolean = Object.hasOwn
export const ObjectPrototype: object = Object.prototype
export const ArrayPrototype: object = Array.prototype
export const ArrayIsArray: (u: unknown) => u is Array<unknown> = Array.isArray
export const ObjectValues: (o: object) => Array<unknown> = Object.values
export const ArrayPrototypeSome: <T>(self: ReadonlyArray<T>, f: (value: T) => boolean) => boolean = uncurryThis(
  Array.prototype.some
) as never
export const ArrayPrototypePush: <T>(self: Array<T>, ...items: Array<T>) => number = uncurryThis(
  Array.prototype.push
) as never
export const ArrayPrototypeSplice: <T>(self: Array<T>, start: number, count: number) => Array<T> = uncurryThis(
  Array.prototype.splice
) as never
export const PromisePrototypeThen: <T, R>(
  self: Promise<T>,
  onFulfilled: (value: T) => R,
  onRejected: (reason: unknown) => R
) => Promise<R> = uncurryThis(Promise.prototype.then) as never

const processExit = uncurryThis(process.exit)
const reallyExit = (process as unknown as { reallyExit?: (code: number) => never }).reallyExit
const processReallyExit = reallyExit === undefined ? undefined : uncurryThis(reallyExit)
const processKill = uncurryThis(process.kill)

/**
 * Ends the process with `code`: through `process.exit` as it was (its 'exit'
 * listeners run), and if that returned (a task replaced what it calls), through
 * the call beneath it, which cannot be stopped.
 */
export const exitProcess = (code: number): never => {
  try {
    processExit(process, code)
  } catch {
    // an 'exit' listener threw: the process ends below all the same
  }
  processReallyExit?.(process, code)
  // not reached: reallyExit does not return; a last resort where it is not there
  return processKill(process, process.pid, "SIGKILL") as never
}

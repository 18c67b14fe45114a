/**
 * JSON text of the pool's own messages, immune to what a task did to the
 * globals: `JSON.stringify` as it was before any task ran (see
 * `primordials.ts`), and a `toJSON` on `Object.prototype` or
 * `Array.prototype` (a task's, or a library's), which `JSON.stringify` would
 * call on every record, bypassed: the replacer gives back the value as it was
 * before `toJSON` (the holder's own property), which `JSON.stringify` then
 * writes as it is. Slower, so used only while such a `toJSON` is there. The
 * process channel's `"json"` frames and a stream's packed batches
 * (`worker/streamRun.ts`) are written with it.
 *
 * @internal
 */
import { ArrayPrototype, JSONStringify, ObjectHasOwn, ObjectPrototype } from "./primordials.ts"

function beforeToJSON(this: Record<string, unknown>, key: string): unknown {
  return this[key]
}

/** The JSON text of `value`; `undefined` for what is no JSON value at all (`undefined`, a function, a symbol). */
export const stringify = (value: unknown): string | undefined =>
  ObjectHasOwn(ObjectPrototype, "toJSON") || ObjectHasOwn(ArrayPrototype, "toJSON")
    ? JSONStringify(value, beforeToJSON)
    : JSONStringify(value)

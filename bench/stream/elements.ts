/**
 * The elements every contender of bench/stream.ts carries: small records, as
 * a parser streams them (a number and a short string), made the same way on
 * every side, so that what differs is how they travel.
 */
export interface Element {
  readonly i: number
  readonly s: string
}

export const element = (i: number): Element => ({ i, s: `name-${i % 97}` })

/** How many elements one message of the floors carries (the floors batch as ours does, only larger). */
export const FLOOR_BATCH = 1024

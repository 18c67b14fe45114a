// A new user's task module, in plain JavaScript.
import { Effect, Schema } from "effect"
import { Task } from "effect-process-pool"

const count = (n) => {
  let found = 0
  for (let i = 2; i <= n; i++) {
    let prime = true
    for (let d = 2; d * d <= i; d++) {
      if (i % d === 0) {
        prime = false
        break
      }
    }
    if (prime) found++
  }
  return found
}

export const countPrimes = Task.make("countPrimes", {
  module: import.meta.url,
  payload: Schema.Number,
  success: Schema.Number,
  run: (n) => Effect.sync(() => count(n))
})

import { defineConfig } from "vitest/config"

export default defineConfig({
  resolve: {
    // examples import "effect-process-pool"; in the repo that is src/, not dist/
    conditions: ["effect-process-pool:source"]
  },
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})

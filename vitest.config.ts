import { defaultServerConditions } from "vite"
import { defineConfig } from "vitest/config"

export default defineConfig({
  // Examples import "effect-process-pool"; in the repo that is src/, not dist/. Tests run in
  // Vite's server environment, whose conditions are `ssr.resolve.conditions`: without the
  // condition there, an in-process import of an example resolves to dist/, or fails without it.
  ssr: { resolve: { conditions: ["effect-process-pool:source", ...defaultServerConditions] } },
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/globalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000
  }
})

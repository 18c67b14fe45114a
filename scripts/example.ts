/**
 * `npm run example -- <name>`: runs examples/<name>.ts in this process, which
 * the npm script starts with the condition that resolves `effect-process-pool`
 * to src/ (the workers inherit it through `process.execArgv`).
 */
import * as NodeFs from "node:fs"

const dir = new URL("../examples/", import.meta.url)
const examples = NodeFs.readdirSync(dir)
  .filter((f) => f.endsWith(".ts"))
  .map((f) => f.slice(0, -".ts".length))
  .sort()

// accept what a shell's completion gives too: examples/basic-map.ts
const name = (process.argv[2] ?? "").replace(/^(\.\/)?examples\//, "").replace(/\.ts$/, "")

if (!examples.includes(name)) {
  console.error(`${name === "" ? "Which example?" : `No example "${name}".`} Run one with: npm run example -- <name>`)
  console.error(`Examples: ${examples.join(", ")}`)
  process.exit(2)
}
await import(new URL(`${name}.ts`, dir).href)

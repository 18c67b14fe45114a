/**
 * What the harnesses learn about the host: the CPU's model and the installed
 * version of a package, read the same way by bench/bench.ts and bench/real.ts,
 * and whether the host is quiet enough for a run worth quoting (two busy loops
 * at once against one alone, {@link quietness}): the machine has 2 cores that
 * other people's work may share.
 */
import * as NodeFs from "node:fs"
import * as Isolated from "./isolated.ts"

/** The CPU's model name, from /proc/cpuinfo. */
export const cpuModel = (): string => {
  try {
    return /^model name\s*:\s*(.+)$/m.exec(NodeFs.readFileSync("/proc/cpuinfo", "utf8"))?.[1] ?? "unknown"
  } catch {
    return "unknown"
  }
}

/** The version of a package installed in the project's node_modules, or "?". */
export const packageVersion = (pkg: string): string => {
  try {
    return JSON.parse(NodeFs.readFileSync(new URL(`../node_modules/${pkg}/package.json`, import.meta.url), "utf8"))
      .version
  } catch {
    return "?"
  }
}

/** Iterations of the busy loop of {@link quietness}: about 2 s of one core here when the host is quiet. */
const BUSY_ITERATIONS = 400_000_000

/** A busy loop that prints its wall and CPU time (ms), measured inside, after RESULT_MARK. */
const BUSY_LOOP = `let x = 0; const t = performance.now(); const c = process.cpuUsage();
for (let i = 0; i < ${BUSY_ITERATIONS}; i++) x = (x + i) | 0;
const u = process.cpuUsage(c);
console.log(${JSON.stringify(Isolated.RESULT_MARK)} + JSON.stringify({ wallMs: performance.now() - t, cpuMs: (u.user + u.system) / 1000, x }))`

/** How a busy loop fared alone and two at once. */
export interface Quietness {
  /** one loop alone: wall and CPU time */
  readonly alone: { readonly wallMs: number; readonly cpuMs: number }
  /** two loops started together: each one's wall time */
  readonly pair: ReadonlyArray<number>
  /** the slower of the pair over the loop alone: about 1 on a quiet host of 2 free cores, about 2 when one core is taken */
  readonly ratio: number
  /**
   * The loop alone got its core nearly to itself and the pair took about as
   * long: {@link QUIET_WALL_PER_CPU}, {@link QUIET_PAIR_RATIO}. A host busy on
   * both cores slows the one and the two alike, so the ratio alone would not
   * see it.
   */
  readonly quiet: boolean
}

/** The loop alone may take this much wall time per CPU time on a quiet host (a tick of the scheduler, a page fault). */
export const QUIET_WALL_PER_CPU = 1.15
/** The pair's slower loop may take this much longer than the loop alone on a quiet host. */
export const QUIET_PAIR_RATIO = 1.25

/**
 * The host check before a run that will be quoted: one busy loop alone, then
 * two at once. On a quiet host with two free cores the two take about as long
 * as the one; the loop alone taking more wall than CPU time says the host was
 * shared already.
 */
export const quietness = async (): Promise<Quietness> => {
  const loop = () =>
    Isolated.runGrouped<{ wallMs: number; cpuMs: number }>(process.execPath, ["-e", BUSY_LOOP], {
      timeoutMs: 120_000
    }).then((o) => {
      if (o.status !== "ok") throw new Error(`the busy loop of the host check ended ${o.status}: ${o.error}`)
      return o.result!
    })
  const alone = await loop()
  const pair = (await Promise.all([loop(), loop()])).map((r) => r.wallMs)
  const ratio = Math.max(...pair) / alone.wallMs
  const quiet = alone.wallMs / alone.cpuMs <= QUIET_WALL_PER_CPU && ratio <= QUIET_PAIR_RATIO
  return { alone: { wallMs: alone.wallMs, cpuMs: alone.cpuMs }, pair, ratio, quiet }
}

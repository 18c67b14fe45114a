/**
 * What bench/real.ts hands a render job (bench/real/job.ts) and what the job
 * answers, shared by the three implementations of the job. No imports: a job
 * whose start-up is measured loads nothing for it.
 */

export interface JobConfig {
  /** the Markdown files, in order */
  readonly paths: ReadonlyArray<string>
  /** pool size (ignored by the sequential job) */
  readonly workers: number
  /** `warm`: timed runs after the untimed one */
  readonly runs: number
  /** ours: options added to `ProcessPool.make`'s (e.g. `workerType`); piscina: `workerImports` (bench/real/impls.ts) */
  readonly poolOptions?: Record<string, unknown> | undefined
}

/** `cold`'s answer: the run's wall time, and the HTML's total length (checked equal across implementations). */
export interface ColdAnswer {
  readonly ms: number
  readonly chars: number
}

/** `warm`'s answer: each timed run's wall time. */
export interface WarmAnswer {
  readonly ms: ReadonlyArray<number>
  readonly chars: number
}

export interface Job {
  readonly cold: (config: JobConfig) => Promise<ColdAnswer>
  readonly warm: (config: JobConfig) => Promise<WarmAnswer>
}

/** The total length of the HTML of a run. */
export const totalChars = (html: ReadonlyArray<string>): number => html.reduce((n, h) => n + h.length, 0)

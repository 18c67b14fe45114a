/**
 * The line a benchmark program answers with: this mark, then JSON, alone on a
 * line of stdout (its workers may print on stdout too). A file of its own with
 * no imports, so that a program whose start-up is measured loads nothing for it.
 */
export const RESULT_MARK = "@@BENCH-RESULT "

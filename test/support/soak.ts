/**
 * One switch for the size of the reliability and hostile-input suites: CI runs them scaled down in
 * `pnpm test`; `pnpm test:soak` (FEN_SOAK=1) runs the full counts.
 */
export const SOAK = process.env.FEN_SOAK === '1'

/** `ci` in `pnpm test`, `soak` under `pnpm test:soak`. */
export function scaled(ci: number, soak: number): number {
  return SOAK ? soak : ci
}

/** A per-test timeout that grows with the soak run (`scaled`, named for what it sizes). */
export const soakTimeout = scaled

// How the console writes times and money: one time zone (Beijing, UTC+08:00, WeChat Pay's own)
// and yuan with two decimals, whatever the browser's locale.

const BEIJING_OFFSET_MS = 8 * 3600_000

/** `2026-12-02 23:24:51` in Beijing time, from any RFC 3339 time or epoch ms; '—' for none. */
export function beijing(time: string | number | undefined): string {
  if (time === undefined || time === '') return '—'
  const ms = typeof time === 'number' ? time : Date.parse(time)
  if (Number.isNaN(ms)) return String(time)
  return new Date(ms + BEIJING_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ')
}

/** ¥12.30 from 1230 fen. */
export function yuan(fen: number): string {
  return `¥${(fen / 100).toFixed(2)}`
}

/** A value as readable JSON. */
export function pretty(value: unknown): string {
  return JSON.stringify(value, null, 2)
}

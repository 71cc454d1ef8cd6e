/**
 * A line's chosen spec as the shop shows it everywhere: the values in the product's order of specs,
 * `冰/大杯` (not the order the keys happen to be stored in — jsonb sorts them). Without the product's
 * specs, the values in the order given. The server stores this with each order line (`specLabel`).
 * In a file of its own, without zod, so that the shop's pages showing a spec do not carry zod.
 */
export function formatSpec(
  spec: Record<string, string> | undefined,
  specs?: readonly { name: string }[],
): string {
  if (!spec) return ''
  const names = specs ? specs.map((s) => s.name).filter((n) => n in spec) : Object.keys(spec)
  return names.map((n) => spec[n]!).join('/')
}

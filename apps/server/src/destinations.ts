/**
 * Where a webhook may be delivered (issue #23 item 8). Without WEBHOOK_ALLOW_PRIVATE (the default
 * in production) a receiver's host is resolved at each delivery and refused when any of its
 * addresses is internal — a webhook aimed, by mistake or by a DNS record someone changed, at
 * 169.254.169.254 would POST into the cloud's metadata service, at 127.0.0.1 into this machine.
 * The request then connects to an address checked here (`pinnedLookup`), never to a second lookup
 * whose answer could have changed in between (DNS rebinding).
 */
import { promises as dns, type LookupAddress } from 'node:dns'
import { BlockList, isIP, type LookupFunction } from 'node:net'
import { networkInterfaces } from 'node:os'

/** Every address of `hostname` (an IP literal resolves to itself), as `dns.lookup` gives them. */
export type ResolveHost = (hostname: string) => Promise<LookupAddress[]>

/** node:dns lookup with all addresses, in the resolver's order. */
export const resolveHost: ResolveHost = (hostname) =>
  dns.lookup(hostname, { all: true, verbatim: true })

/** The ranges refused, each with the name a refusal gives (IPv4-mapped IPv6 addresses match too). */
const RANGES: [string, [string, number, 'ipv4' | 'ipv6'][]][] = [
  [
    'unspecified',
    [
      ['0.0.0.0', 8, 'ipv4'],
      ['::', 128, 'ipv6'],
    ],
  ],
  [
    'loopback',
    [
      ['127.0.0.0', 8, 'ipv4'],
      ['::1', 128, 'ipv6'],
    ],
  ],
  [
    'link-local',
    [
      ['169.254.0.0', 16, 'ipv4'],
      ['fe80::', 10, 'ipv6'],
    ],
  ],
  [
    'private',
    [
      ['10.0.0.0', 8, 'ipv4'],
      ['172.16.0.0', 12, 'ipv4'],
      ['192.168.0.0', 16, 'ipv4'],
      ['fc00::', 7, 'ipv6'],
      // Site-local: deprecated, still private wherever it is used.
      ['fec0::', 10, 'ipv6'],
    ],
  ],
  ['shared address space', [['100.64.0.0', 10, 'ipv4']]],
  [
    'multicast',
    [
      ['224.0.0.0', 4, 'ipv4'],
      ['ff00::', 8, 'ipv6'],
    ],
  ],
  [
    'reserved',
    [
      ['240.0.0.0', 4, 'ipv4'],
      // IPv4-compatible IPv6 (deprecated): nothing a receiver uses.
      ['::', 96, 'ipv6'],
    ],
  ],
]
const BLOCKS = RANGES.map(([name, subnets]) => {
  const list = new BlockList()
  for (const [network, prefix, type] of subnets) list.addSubnet(network, prefix, type)
  return [name, list] as const
})
/** NAT64's well-known prefix: the gateway forwards to the IPv4 address in the last 32 bits. */
const NAT64 = new BlockList()
NAT64.addSubnet('64:ff9b::', 96, 'ipv6')

/**
 * The refused range `address` is in (`loopback`, `link-local`, `private`, `shared address space`,
 * `unspecified`, `multicast`, `reserved`), or undefined for a public address.
 */
export function refusedRangeOf(address: string): string | undefined {
  const family = isIP(address)
  if (family === 0) return 'not an IP address'
  const type = family === 4 ? 'ipv4' : 'ipv6'
  for (const [name, list] of BLOCKS) if (list.check(address, type)) return name
  if (type === 'ipv6' && NAT64.check(address, 'ipv6')) {
    const v4 = embeddedIpv4(address)
    return v4 === undefined ? undefined : refusedRangeOf(v4)
  }
  return undefined
}

/** The IPv4 address in the last 32 bits of an IPv6 address (NAT64). */
function embeddedIpv4(address: string): string | undefined {
  // The URL parser writes an IPv6 address in its one canonical form: 8 hex groups at most, `::`.
  const host = new URL(`http://[${address}]/`).hostname.slice(1, -1)
  const groups = host.split(':')
  const [hi, lo] = groups.slice(-2).map((g) => parseInt(g || '0', 16))
  if (hi === undefined || lo === undefined) return undefined
  return [hi >> 8, hi & 255, lo >> 8, lo & 255].join('.')
}

/** The addresses of this machine's interfaces: "the server itself" may listen on any of them. */
export function interfaceAddresses(): string[] {
  return Object.values(networkInterfaces()).flatMap((list) => (list ?? []).map((i) => i.address))
}

/** A delivery refused for its destination (its message says which address, which range). */
export class DestinationRefused extends Error {
  override name = 'DestinationRefused'
}

/**
 * Resolves `hostname` and checks every address it has: any internal one (refusedRangeOf) or one of
 * `ownAddresses` is refused with a DestinationRefused. Returns the addresses, to connect to.
 */
export async function vetDestination(
  hostname: string,
  resolve: ResolveHost = resolveHost,
  ownAddresses: () => string[] = interfaceAddresses,
): Promise<LookupAddress[]> {
  const addresses = await resolve(hostname)
  if (addresses.length === 0) throw new DestinationRefused(`${hostname}: no address`)
  const own = new BlockList()
  for (const address of ownAddresses()) {
    const family = isIP(address)
    if (family !== 0) own.addAddress(address, family === 4 ? 'ipv4' : 'ipv6')
  }
  for (const { address } of addresses) {
    const why =
      refusedRangeOf(address) ??
      (own.check(address, isIP(address) === 4 ? 'ipv4' : 'ipv6')
        ? "this server's own address"
        : undefined)
    if (why)
      throw new DestinationRefused(
        `refused: ${hostname} resolves to ${address} (${why}); WEBHOOK_ALLOW_PRIVATE=true allows it`,
      )
  }
  return addresses
}

/**
 * A `lookup` for node:http(s) that answers with `addresses` (already resolved and checked) instead
 * of asking DNS again.
 */
export function pinnedLookup(addresses: LookupAddress[]): LookupFunction {
  return ((_hostname, options, callback) => {
    if (options.all) callback(null, addresses)
    else callback(null, addresses[0]!.address, addresses[0]!.family)
  }) as LookupFunction
}

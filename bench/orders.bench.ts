/**
 * `pnpm bench:orders` — how many orders (`POST /api/orders {items}`) the server creates per second:
 * priced by the server from its catalogue, stock reserved by compare-and-set, the order and its
 * lines inserted in one transaction; against the reference backend doing the same work, in the
 * same run.
 *
 * Setup: a fresh database (DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test; dropped
 * at the end), the sandbox CLI (it only hands out the merchant settings and the shopper's login),
 * Fen's server (`apps/server/src/main.ts` under tsx, logging at `info`) and the reference backend
 * (bench/reference/main.ts) each in a process of its own; autocannon runs in this process.
 * SHOPPERS (29: Fen allows 30 logins a minute from one address) log in through Fen's API, and the
 * requests take their tokens in turn, so orders placed at the same moment are different shoppers'
 * as in a shop: Fen locks the shopper's row while it counts their unpaid orders (at most
 * ORDER_MAX_OPEN_PER_USER, at its maximum 1000 here), and one shopper's 32 creates at once would
 * queue on that lock, which the reference does not take. Both backends accept the tokens. PRODUCTS (50) products are
 * added to the catalogue with stock enough for the run. Each request orders LINES (2) of them —
 * consecutive products, a different first one each time, so the row locks on stock spread as a
 * shop's traffic does rather than all queueing on one product — with an `Idempotency-Key` of its
 * own, as the mini-program sends one with every new order.
 *
 * ROUNDS (5) interleaved rounds (Fen and the reference swap places every other round) of REQUESTS
 * (2000) orders each over CONCURRENCY (32) connections; WARMUP (300) orders each first. Medians
 * with min–max; ratios are medians of per-round ratios. CPU per order by process: the server, the
 * database's backends, this process. Afterwards the stock taken is checked against the lines
 * ordered. Prints figures; asserts nothing.
 */
import { OPENID } from './notifications'
import { cpuTable, errorLines, rateTable, versusReference, type Case } from './report'
import { loginShopper, versusRounds, withStack, type Backend, type PreparedRequest } from './stack'

const ROUNDS = Number(process.env.ROUNDS ?? 5)
const REQUESTS = Number(process.env.REQUESTS ?? 2000)
const CONCURRENCY = Number(process.env.CONCURRENCY ?? 32)
const WARMUP = Number(process.env.WARMUP ?? 300)
const PRODUCTS = Number(process.env.PRODUCTS ?? 50)
const LINES = Math.min(Number(process.env.LINES ?? 2), PRODUCTS, 20)
const SHOPPERS = Number(process.env.SHOPPERS ?? 29)
/** Stock of each benchmark product: more than any run takes. */
const STOCK = 1_000_000_000
/** Fen's ORDER_MAX_OPEN_PER_USER for the run (its maximum): each shopper places at most this many. */
const MAX_OPEN = 1000

const CASES: (Case<Backend> & { prefix: string })[] = [
  { name: 'server', label: "Fen's server: POST /api/orders", prefix: 'FEN' },
  {
    name: 'reference',
    label: 'reference backend: the same orders (bench/reference/)',
    prefix: 'REF',
  },
]

async function main(): Promise<void> {
  // No cap on a shopper's units of a product (ORDER_MAX_UNITS_PER_PRODUCT=0): each shopper here
  // holds up to MAX_OPEN unpaid orders, and the cap's sum over their lines would measure a
  // shopper no shop has (a real one holds ORDER_MAX_OPEN_PER_USER, 10 by default).
  const serverEnv = { ORDER_MAX_OPEN_PER_USER: String(MAX_OPEN), ORDER_MAX_UNITS_PER_PRODUCT: '0' }
  await withStack({ serverEnv }, async (stack) => {
    const { db, sandbox } = stack
    const orders = 2 * (WARMUP + CONCURRENCY) + 2 * ROUNDS * (REQUESTS + CONCURRENCY)
    // Fewer than the 30 logins a minute Fen allows one address, and enough that nobody's open
    // orders exceed MAX_OPEN.
    const shoppers = Math.max(SHOPPERS, Math.ceil(orders / MAX_OPEN))
    const tokens: string[] = []
    for (let i = 0; i < shoppers; i++) {
      tokens.push((await loginShopper(sandbox.url, stack.server.url, `${OPENID}_${i}`)).token)
    }
    const { rows: products } = await db.pool.query<{ id: number }>(
      `insert into products (title, price_fen, stock)
         select 'Fen 压测商品 ' || g, 100 + g, $2 from generate_series(1, $1) g
       returning id`,
      [PRODUCTS, STOCK],
    )
    const ids = products.map((p) => p.id).sort((a, b) => a - b)
    await db.pool.query('analyze products')

    let seq = 0
    const prepare = (tag: string, count: number): PreparedRequest[] =>
      Array.from({ length: count }, () => {
        const first = seq++ % ids.length
        const items = Array.from({ length: LINES }, (_, l) => ({
          productId: ids[(first + l) % ids.length]!,
          quantity: 1 + (l % 3),
        }))
        return {
          method: 'POST',
          path: '/api/orders',
          headers: {
            authorization: `Bearer ${tokens[seq % tokens.length]}`,
            'content-type': 'application/json',
            'idempotency-key': `bench-${tag}-${seq}`,
          },
          body: JSON.stringify({ items }),
        }
      })

    const rounds = await versusRounds(stack, {
      cases: CASES,
      rounds: ROUNDS,
      requests: REQUESTS,
      connections: CONCURRENCY,
      warmup: WARMUP,
      prepare: (name, round, count) => prepare(`${name}-${round}`, count),
    })

    const made = await db.pool.query<{ kind: string; n: string }>(
      'select left(order_no, 3) as kind, count(*) as n from orders group by 1 order by 1',
    )
    const stock = await db.pool.query<{ taken: string; ordered: string }>(
      `select (select sum($2 - stock) from products where id = any($1)) as taken,
              (select sum(quantity) from order_items where product_id = any($1)) as ordered`,
      [ids, STOCK],
    )

    console.log(`# Orders benchmark — ${new Date().toISOString()}`)
    for (const l of stack.header) console.log(l)
    console.log(
      `method: ${ROUNDS} interleaved rounds × ${REQUESTS} orders per backend over ${CONCURRENCY} connections (autocannon), ${LINES} lines each over ${PRODUCTS} products; warm-up ${WARMUP} each\n`,
    )
    for (const l of rateTable(CASES, rounds)) console.log(l)
    console.log('\nratios (median of per-round ratios):')
    for (const l of versusReference(rounds, 'server', 'reference')) console.log(l)
    console.log('\nCPU per order, ms (median over rounds):')
    for (const l of cpuTable(CASES, rounds)) console.log(l)
    console.log('\nwhat the database shows afterwards:')
    for (const r of made.rows) {
      const c = CASES.find((x) => x.prefix === r.kind)
      console.log(`- ${c?.name ?? r.kind} orders: ${r.n} (expected ${WARMUP + ROUNDS * REQUESTS})`)
    }
    console.log(
      `- stock taken: ${stock.rows[0]!.taken}; quantities ordered: ${stock.rows[0]!.ordered} (the same when nothing was reserved twice or lost)`,
    )
    for (const l of errorLines(stack.servers)) console.log(l)
  })
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})

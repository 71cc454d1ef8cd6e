/**
 * The reference backend of the server benchmarks: the least a backend must do to serve Fen's four
 * hot paths correctly, written the plain way — Koa + koa-body + `pg` + node:crypto, no Fen code
 * (protocol.ts holds the crypto). The benchmarks run it in its own process next to Fen's server,
 * against the same sandbox and the same database (Fen's schema, migrated by the benchmark), and
 * print Fen ÷ reference. It exists to be measured, not deployed.
 *
 * What each path does, and proves, the same as Fen:
 * - `POST /api/auth/login {code}`: code2Session at the sandbox (errcode → 401/503), the user upserted
 *   by openid (Fen's statement), an HS256 JWT with Fen's claims (sub, oid = a tag of the openid).
 * - `POST /api/orders {items}` (Bearer token): token checked and its user read (the token must name
 *   the user's openid: ids can be reused after a reset); the lines sorted (one lock order), stock
 *   reserved per line by compare-and-set at the catalogue's price, the order and its lines inserted,
 *   all in one transaction; `Idempotency-Key` honoured through Fen's unique (user, key) index.
 * - `POST /api/orders/:orderNo/pay {channel: 'jsapi'}` (Bearer token): one read of the order, its
 *   owner's openid and its lines' description, refusing what Fen refuses (another user's, not
 *   PENDING, expiring within a minute, another API version, prepaid through the other channel);
 *   the APIv3 request signed, sent to the sandbox, the answer's signature verified; the prepay
 *   recorded by compare-and-set (`… WHERE status = 'PENDING'`, as Fen's recordPrepay); `paySign`
 *   signed for `wx.requestPayment`. (The issue sketched "one INSERT": against Fen's schema the
 *   prepay lives on the order row, so it is this UPDATE.)
 * - `POST /api/pay/notify`: the signature over the raw body (headers, SIGNTEST, the ±5 min window,
 *   serial → key), AEAD_AES_256_GCM, then one conditional UPDATE that checks the amount against the
 *   row it changes (`… WHERE status = 'PENDING' AND total_fen = $amount`); appid and mchid are
 *   compared with our own. 204 whatever the outcome, as Fen answers.
 *
 * What it deliberately leaves out, compared with Fen (so a reader can judge the ratio):
 * - notify: the notification log (Fen stores every notification by WeChat's id, so a retry is
 *   found and changes nothing, and a rejected one is kept for review — here a mismatch is only a
 *   line on stderr); the payments row; the `order.paid` outbox event and its delivery (Fen's
 *   dispatcher runs in its process); the row lock and the separate checks (the UPDATE's WHERE does
 *   them); a payment for a CLOSED order (Fen records it and refunds it; here it is only logged);
 *   REFUND.* and other event types; refund-state payments; platform certificates (public key only).
 * - pay: prepay reuse (Fen hands back a still-valid prepay_id without calling WeChat; here every
 *   pay calls the sandbox, which answers a repeat with the same prepay_id), Native pay, APIv2,
 *   retries, and the typed WeChat errors (ORDERPAID → sync; here any WeChat refusal is one 502).
 * - orders: the replay's pre-read (Fen looks the key up before the transaction; here the unique
 *   index finds a retry), the exact error for a missing product (one read, only on that path).
 * - login: the per-IP rate limit (30 logins a minute, an in-memory counter).
 * - everywhere: the request log line and Prometheus metrics per request, zod schemas (checks are
 *   hand-written), the router (a switch on method and path), drizzle (plain `pg` queries, unnamed
 *   statements like drizzle's), the sweeper and outbox jobs, refunds, admin, GET routes.
 *
 * Environment (the benchmark sets it, as for Fen's server): PORT, DATABASE_URL, FEN_SANDBOX_URL
 * (the merchant's keys come from its `GET /__sandbox/merchant`, as Fen's do), PUBLIC_BASE_URL
 * (notify_url), JWT_SECRET (the same as Fen's, so Fen's tokens are valid here and the reverse).
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  createSecretKey,
  randomInt,
} from 'node:crypto'
import type { IncomingHttpHeaders } from 'node:http'
import Koa, { type Context } from 'koa'
import { koaBody } from 'koa-body'
import pg from 'pg'
import {
  authorization,
  decrypt,
  nonce,
  rsaSign,
  signJwt,
  unixSeconds,
  verifyJwt,
  verifyWechat,
  type Resource,
} from './protocol'

const env = (name: string): string => {
  const v = process.env[name]
  if (!v) throw new Error(`reference: ${name} is required`)
  return v
}
const sandboxUrl = env('FEN_SANDBOX_URL').replace(/\/+$/, '')
const merchant = (await (await fetch(`${sandboxUrl}/__sandbox/merchant`)).json()) as {
  mchid: string
  appid: string
  appSecret: string
  apiV3Key: string
  merchantSerialNo: string
  merchantPrivateKey: string
  platformMode: string
  platformPublicKeyId: string
  platformPublicKey: string
}
if (merchant.platformMode !== 'publicKey')
  throw new Error('reference: only the WeChat Pay public key mode is supported')
const M = {
  mchid: merchant.mchid,
  appid: merchant.appid,
  serialNo: merchant.merchantSerialNo.toUpperCase(),
  key: createPrivateKey(merchant.merchantPrivateKey),
}
const wechatKeys = new Map([
  [merchant.platformPublicKeyId, createPublicKey(merchant.platformPublicKey)],
])
const apiV3Key = createSecretKey(Buffer.from(merchant.apiV3Key, 'utf8'))
const jwtKey = createSecretKey(Buffer.from(env('JWT_SECRET'), 'utf8'))
const notifyUrl = `${env('PUBLIC_BASE_URL').replace(/\/+$/, '')}/api/pay/notify`
/** Fen's defaults: tokens live 2 h, orders 15 min, prepays 2 h; no new prepay within a minute of expiry. */
const JWT_TTL_S = 7200
const ORDER_TTL_MS = 900_000
const PREPAY_TTL_MS = 2 * 3600_000
const PAY_MARGIN_MS = 60_000
const MAX_TOTAL_FEN = 2_147_483_647
const USER_AGENT = `fen-bench-reference node/${process.versions.node}`

/**
 * One log line in pino's shape (what Fen's server writes), so the benchmark counts the reference's
 * error lines (level 50) as it counts Fen's. Only refusals worth a person's look and failures are
 * logged; a request that succeeds writes nothing.
 */
function log(level: 40 | 50, msg: string, err?: unknown): void {
  const line: Record<string, unknown> = { level, time: Date.now(), msg }
  if (err) line.err = { message: (err as Error).message, stack: (err as Error).stack }
  process.stderr.write(JSON.stringify(line) + '\n')
}

// The same pool size as Fen's server.
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 10 })
pool.on('error', (e) => log(40, 'idle connection lost; the pool reconnects', e))

/** A refusal: `{code, message}` with this status. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message)
  }
}
const unauthorized = () => new Refusal(401, 'UNAUTHORIZED', '登录已失效，请重新登录')

/** Fen's tag of an openid in tokens: the first 16 characters of its SHA-256, base64url. */
const openidTag = (openid: string) =>
  createHash('sha256').update(openid).digest('base64url').slice(0, 16)

/** The token's claims (id, openid tag), checked; the user row is read by the caller's SQL. */
function bearer(ctx: Context): { userId: number; oid: string } {
  const m = /^Bearer (\S+)$/.exec(ctx.get('authorization'))
  const claims = m ? verifyJwt(jwtKey, m[1]!) : undefined
  const userId = Number(claims?.sub)
  if (!claims || !Number.isSafeInteger(userId) || userId <= 0 || userId > 2_147_483_647)
    throw unauthorized()
  if (typeof claims.oid !== 'string') throw unauthorized()
  return { userId, oid: claims.oid }
}

// ---- login ------------------------------------------------------------------------------------

async function login(ctx: Context): Promise<void> {
  const code = (ctx.request.body as { code?: unknown } | undefined)?.code
  if (typeof code !== 'string' || code.length < 1 || code.length > 128)
    throw new Refusal(400, 'INVALID_INPUT', 'code: 1–128 characters')
  const query = new URLSearchParams({
    appid: M.appid,
    secret: merchant.appSecret,
    js_code: code,
    grant_type: 'authorization_code',
  })
  const res = await fetch(`${sandboxUrl}/sns/jscode2session?${query}`, {
    headers: { Accept: 'application/json' },
    signal: AbortSignal.timeout(5000),
  })
  const s = (await res.json()) as {
    openid?: string
    unionid?: string
    session_key?: string
    errcode?: number
  }
  if (s.errcode) {
    if (s.errcode === 40029 || s.errcode === 40163)
      throw new Refusal(401, 'LOGIN_CODE_INVALID', '登录凭证无效或已使用，请重新登录')
    throw new Refusal(503, 'WECHAT_UNAVAILABLE', '微信登录繁忙，请稍后重试')
  }
  if (!s.openid || !s.session_key) throw new Refusal(502, 'WECHAT_ERROR', '微信登录失败')
  // Fen's upsertUser, as SQL.
  const { rows } = await pool.query<{ id: number }>(
    `insert into users (openid, unionid, session_key) values ($1, $2, $3)
       on conflict (openid) do update set session_key = excluded.session_key,
         unionid = coalesce(excluded.unionid, users.unionid), last_login_at = now(),
         login_count = users.login_count + 1
     returning id`,
    [s.openid, s.unionid ?? null, s.session_key],
  )
  const id = rows[0]!.id
  const iat = unixSeconds()
  const exp = iat + JWT_TTL_S
  ctx.body = {
    token: signJwt(jwtKey, { sub: String(id), oid: openidTag(s.openid), iat, exp }),
    expiresAt: new Date(exp * 1000).toISOString(),
    user: { id },
  }
}

// ---- orders -----------------------------------------------------------------------------------

/** `REF` + Beijing yyyyMMddHHmmss + 8 random digits (Fen's shape, another prefix: 25 characters). */
function newOrderNo(now: Date): string {
  const beijing = new Date(now.getTime() + 8 * 3600_000).toISOString()
  return `REF${beijing.slice(0, 19).replace(/\D/g, '')}${String(randomInt(0, 100_000_000)).padStart(8, '0')}`
}

interface Line {
  productId: number
  quantity: number
}

function orderLines(body: unknown): Line[] {
  const items = (body as { items?: unknown } | undefined)?.items
  const bad = (m: string) => new Refusal(400, 'INVALID_INPUT', `items: ${m}`)
  if (!Array.isArray(items) || items.length < 1 || items.length > 20) throw bad('1–20 lines')
  const lines: Line[] = []
  const seen = new Set<number>()
  for (const i of items as { productId?: unknown; quantity?: unknown }[]) {
    const { productId, quantity } = i ?? {}
    if (
      !Number.isInteger(productId) ||
      (productId as number) <= 0 ||
      (productId as number) > 2_147_483_647
    )
      throw bad('productId must be a positive integer')
    if (!Number.isInteger(quantity) || (quantity as number) < 1 || (quantity as number) > 99)
      throw bad('quantity must be 1–99')
    if (seen.has(productId as number)) throw bad('同一商品请合并为一行')
    seen.add(productId as number)
    lines.push({ productId: productId as number, quantity: quantity as number })
  }
  return lines.sort((a, b) => a.productId - b.productId) // one lock order: no deadlocks
}

async function createOrder(ctx: Context): Promise<void> {
  const { userId, oid } = bearer(ctx)
  const key = ctx.get('idempotency-key') || null
  if (key !== null && !/^[\x21-\x7e]{1,128}$/.test(key))
    throw new Refusal(400, 'INVALID_INPUT', 'Idempotency-Key: 1–128 printable ASCII characters')
  const lines = orderLines(ctx.request.body)
  const requestHash = createHash('sha256').update(JSON.stringify(lines)).digest('hex')
  const client = await pool.connect()
  try {
    const user = await client.query<{ openid: string }>('select openid from users where id = $1', [
      userId,
    ])
    if (!user.rows[0] || openidTag(user.rows[0].openid) !== oid) throw unauthorized()
    const now = new Date()
    const orderNo = newOrderNo(now)
    const expiresAt = new Date(now.getTime() + ORDER_TTL_MS)
    await client.query('begin')
    try {
      const items: { productId: number; title: string; unitPriceFen: number; quantity: number }[] =
        []
      let total = 0
      for (const l of lines) {
        const r = await client.query<{ title: string; price_fen: number }>(
          `update products set stock = stock - $2 where id = $1 and active and stock >= $2
           returning title, price_fen`,
          [l.productId, l.quantity],
        )
        const p = r.rows[0]
        if (!p)
          throw new Refusal(409, 'OUT_OF_STOCK', `商品 ${l.productId} 不存在、已下架或库存不足`)
        total += p.price_fen * l.quantity
        items.push({
          productId: l.productId,
          title: p.title,
          unitPriceFen: p.price_fen,
          quantity: l.quantity,
        })
      }
      if (total > MAX_TOTAL_FEN) throw new Refusal(400, 'INVALID_INPUT', '订单金额超出上限')
      // The order and its lines in one statement.
      await client.query(
        `with o as (
           insert into orders (order_no, user_id, status, total_fen, api_version, created_at,
                               expires_at, idempotency_key, request_hash)
           values ($1, $2, 'PENDING', $3, 'v3', $4, $5, $6, $7) returning order_no)
         insert into order_items (order_no, product_id, title, unit_price_fen, quantity)
         select o.order_no, l.* from o,
           unnest($8::int[], $9::text[], $10::int[], $11::int[]) as l`,
        [
          orderNo,
          userId,
          total,
          now,
          expiresAt,
          key,
          requestHash,
          items.map((i) => i.productId),
          items.map((i) => i.title),
          items.map((i) => i.unitPriceFen),
          items.map((i) => i.quantity),
        ],
      )
      await client.query('commit')
      ctx.status = 201
      ctx.body = {
        orderNo,
        status: 'PENDING',
        totalFen: total,
        refundedFen: 0,
        items,
        createdAt: now.toISOString(),
        expiresAt: expiresAt.toISOString(),
      }
    } catch (e) {
      await client.query('rollback')
      // A retry with the same key (the unique index orders_user_idempotency): the first order.
      if (key !== null && (e as { code?: string }).code === '23505') {
        ctx.status = 201
        ctx.body = await replay(client, userId, key, requestHash)
        return
      }
      throw e
    }
  } finally {
    client.release()
  }
}

async function replay(client: pg.PoolClient, userId: number, key: string, requestHash: string) {
  const { rows } = await client.query(
    `select o.order_no, o.status, o.total_fen, o.refunded_fen, o.created_at, o.expires_at,
            o.request_hash, json_agg(json_build_object('productId', i.product_id, 'title', i.title,
              'unitPriceFen', i.unit_price_fen, 'quantity', i.quantity) order by i.product_id) as items
       from orders o join order_items i using (order_no)
      where o.user_id = $1 and o.idempotency_key = $2 group by o.order_no`,
    [userId, key],
  )
  const o = rows[0]
  if (!o) throw new Refusal(409, 'CONFLICT', '请重试')
  if (o.request_hash !== requestHash)
    throw new Refusal(409, 'IDEMPOTENCY_KEY_REUSED', 'Idempotency-Key 已用于另一个订单')
  return {
    orderNo: o.order_no,
    status: o.status,
    totalFen: o.total_fen,
    refundedFen: o.refunded_fen,
    items: o.items,
    createdAt: o.created_at.toISOString(),
    expiresAt: o.expires_at.toISOString(),
  }
}

// ---- pay --------------------------------------------------------------------------------------

/** RFC 3339 in Beijing time, second precision (WeChat's `time_expire`). */
const beijingTime = (ms: number) =>
  new Date(ms + 8 * 3600_000).toISOString().slice(0, 19) + '+08:00'

async function pay(ctx: Context, orderNo: string): Promise<void> {
  const { userId, oid } = bearer(ctx)
  if ((ctx.request.body as { channel?: unknown } | undefined)?.channel !== 'jsapi')
    throw new Refusal(400, 'INVALID_INPUT', "channel: the reference pays 'jsapi' only")
  // The order, its owner's openid (for the token check and the payer) and its description, in one
  // read; what Fen refuses is filtered here, so no row means "not yours, or not payable".
  const { rows } = await pool.query<{
    total_fen: number
    expires_at: Date
    openid: string
    title: string | null
    count: number | null
  }>(
    `select o.total_fen, o.expires_at, u.openid, i.title, i.count
       from orders o join users u on u.id = o.user_id
       left join lateral (select (array_agg(title order by product_id))[1] as title,
                                 sum(quantity)::int as count
                            from order_items where order_no = o.order_no) i on true
      where o.order_no = $1 and o.user_id = $2 and o.status = 'PENDING' and o.api_version = 'v3'
        and (o.channel is null or o.channel = 'jsapi') and o.expires_at > $3`,
    [orderNo, userId, new Date(Date.now() + PAY_MARGIN_MS)],
  )
  const order = rows[0]
  if (!order) throw new Refusal(404, 'ORDER_NOT_PAYABLE', '订单不存在或不可支付')
  if (openidTag(order.openid) !== oid) throw unauthorized()
  const first = order.title ?? 'Fen 订单'
  const description = [...((order.count ?? 0) > 1 ? `${first} 等${order.count}件商品` : first)]
    .slice(0, 127)
    .join('')
  const body = JSON.stringify({
    appid: M.appid,
    mchid: M.mchid,
    description,
    out_trade_no: orderNo,
    time_expire: beijingTime(order.expires_at.getTime()),
    notify_url: notifyUrl,
    amount: { total: order.total_fen, currency: 'CNY' },
    payer: { openid: order.openid },
  })
  const path = '/v3/pay/transactions/jsapi'
  const res = await fetch(sandboxUrl + path, {
    method: 'POST',
    headers: {
      Accept: 'application/json',
      'Content-Type': 'application/json',
      'User-Agent': USER_AGENT,
      Authorization: authorization(M, 'POST', path, body),
      'Wechatpay-Serial': merchant.platformPublicKeyId,
    },
    body,
    signal: AbortSignal.timeout(10_000),
  })
  const answer = Buffer.from(await res.arrayBuffer())
  if (res.status !== 200) throw new Refusal(502, 'WECHAT_ERROR', `微信支付返回 ${res.status}`)
  const failed = verifyWechat(wechatKeys, res.headers, answer)
  if (failed) throw new Refusal(502, 'WECHAT_ERROR', `微信支付应答验签失败 (${failed})`)
  const prepayId = (JSON.parse(answer.toString('utf8')) as { prepay_id?: unknown }).prepay_id
  if (typeof prepayId !== 'string')
    throw new Refusal(502, 'WECHAT_ERROR', '微信支付应答没有 prepay_id')
  const recorded = await pool.query(
    `update orders set channel = 'jsapi', prepay_id = $2, prepay_expires_at = $3
      where order_no = $1 and status = 'PENDING' and (channel is null or channel = 'jsapi')`,
    [orderNo, prepayId, new Date(Math.min(Date.now() + PREPAY_TTL_MS, order.expires_at.getTime()))],
  )
  if (recorded.rowCount !== 1)
    throw new Refusal(409, 'ORDER_NOT_PAYABLE', '订单状态已变化，请刷新后重试')
  const timeStamp = String(unixSeconds())
  const nonceStr = nonce()
  const pkg = `prepay_id=${prepayId}`
  ctx.body = {
    channel: 'jsapi',
    params: {
      appId: M.appid,
      timeStamp,
      nonceStr,
      package: pkg,
      signType: 'RSA',
      paySign: rsaSign(M.key, `${M.appid}\n${timeStamp}\n${nonceStr}\n${pkg}\n`),
    },
  }
}

// ---- notify -----------------------------------------------------------------------------------

async function rawBody(ctx: Context, limit = 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of ctx.req) {
    size += (chunk as Buffer).length
    if (size > limit) throw new Refusal(413, 'PAYLOAD_TOO_LARGE', 'body too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

async function notify(ctx: Context): Promise<void> {
  const raw = await rawBody(ctx)
  const failed = verifyWechat(wechatKeys, ctx.headers as IncomingHttpHeaders, raw)
  if (failed) {
    ctx.status = 401
    ctx.body = { code: 'FAIL', message: '验签失败' }
    return
  }
  let envelope: { event_type?: unknown; resource?: Resource }
  let t: {
    appid?: unknown
    mchid?: unknown
    out_trade_no?: unknown
    transaction_id?: unknown
    trade_state?: unknown
    success_time?: unknown
    amount?: { total?: unknown }
  }
  try {
    envelope = JSON.parse(raw.toString('utf8'))
    const plain = envelope.resource ? decrypt(apiV3Key, envelope.resource) : undefined
    if (plain === undefined) throw new Error('not decrypted')
    t = JSON.parse(plain)
  } catch {
    ctx.status = 400
    ctx.body = { code: 'FAIL', message: '报文格式错误' }
    return
  }
  ctx.status = 204
  if (envelope.event_type !== 'TRANSACTION.SUCCESS' || t.trade_state !== 'SUCCESS') return
  if (
    t.appid !== M.appid ||
    t.mchid !== M.mchid ||
    typeof t.out_trade_no !== 'string' ||
    typeof t.transaction_id !== 'string' ||
    !Number.isInteger(t.amount?.total)
  ) {
    log(50, 'ALERT: payment not applied (appid, mchid, order, transaction_id or amount)')
    return
  }
  const paidAt = typeof t.success_time === 'string' ? new Date(t.success_time) : new Date()
  try {
    const r = await pool.query(
      `update orders set status = 'PAID', transaction_id = $2, paid_at = $3
        where order_no = $1 and status = 'PENDING' and total_fen = $4`,
      [
        t.out_trade_no,
        t.transaction_id,
        Number.isNaN(paidAt.getTime()) ? new Date() : paidAt,
        t.amount?.total,
      ],
    )
    // 0 rows: a retry of one applied, an unknown order or an amount that does not match. Fen tells
    // them apart and keeps the last two for review; the reference only has this line.
    if (r.rowCount !== 1) log(40, `payment for ${t.out_trade_no} changed nothing`)
  } catch (e) {
    // The transaction paid another order already (transaction_id is unique): held, as Fen holds it.
    if ((e as { code?: string }).code !== '23505') throw e
    log(50, 'ALERT: payment not applied (a transaction reported twice)')
  }
}

// ---- the app ----------------------------------------------------------------------------------

// Fen's body-parser settings (apps/server/src/app.ts), so that both parse alike.
const json = koaBody({
  json: true,
  jsonLimit: '64kb',
  urlencoded: false,
  text: false,
  multipart: false,
  jsonStrict: true,
})
const PAY = /^\/api\/orders\/([0-9A-Za-z_\-|*]{6,32})\/pay$/

const app = new Koa()
app.use(async (ctx) => {
  try {
    if (ctx.method === 'POST' && ctx.path === '/api/pay/notify') return await notify(ctx)
    if (ctx.method === 'GET' && ctx.path === '/readyz') {
      await pool.query('select 1')
      ctx.body = { ok: true }
      return
    }
    await json(ctx, async () => {
      if (ctx.method !== 'POST') throw new Refusal(404, 'NOT_FOUND', 'no such endpoint')
      if (ctx.path === '/api/auth/login') return login(ctx)
      if (ctx.path === '/api/orders') return createOrder(ctx)
      const m = PAY.exec(ctx.path)
      if (m) return pay(ctx, m[1]!)
      throw new Refusal(404, 'NOT_FOUND', 'no such endpoint')
    })
  } catch (e) {
    const status = e instanceof Refusal ? e.status : ((e as { status?: number }).status ?? 500)
    if (status >= 500) log(50, 'request failed', e)
    ctx.status = status
    ctx.body =
      e instanceof Refusal
        ? { code: e.code, message: e.message }
        : {
            code: status === 500 ? 'INTERNAL' : 'INVALID_INPUT',
            message: status === 500 ? '服务器内部错误' : String((e as Error).message),
          }
  }
})

const port = Number(env('PORT'))
app.listen(port, '127.0.0.1', () => console.log(`reference listening on ${port}`))
process.on('SIGTERM', () => {
  void pool.end().finally(() => process.exit(0))
})

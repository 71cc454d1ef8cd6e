/**
 * Issue #6, part 2: WeChat Pay notifications, mutated.
 *
 * A genuine notification (signed with the sandbox's WeChat Pay key, resource encrypted with the
 * APIv3 key) is built afresh for each run and then changed: its bytes, each `Wechatpay-*` header,
 * the ciphertext/nonce/associated data inside (re-signed, so the decryption is what refuses it),
 * its resource re-encrypted with a wrong key, other signers, and its headers replayed over other
 * bodies. A forged notification is never acknowledged (never 2xx), never a 5xx, and changes
 * nothing — every row and WeChat's view are compared — and the genuine one still works afterwards,
 * once. The same for APIv2 XML (wrong signs, XXE and entity expansion, structure, size).
 *
 * Then notifications that *are* signed by WeChat but carry junk in their resource: never a 5xx,
 * and an order is PAID only by a payment that matches it (appid, mchid, order, amount).
 *
 * Not counted as forgeries here (they do not change what was signed): the
 * `Wechatpay-Signature-Type` and `Content-Type` headers, which the signature does not cover, and
 * re-encodings of the same signature bytes (Node's base64 decoder skips characters outside the
 * alphabet, so `sig + "!"` decodes to the same signature).
 */
import { randomBytes as nodeRandomBytes } from 'node:crypto'
import type { AdminOrderDetail, Order } from '@fen/shared'
import { startHarness, type Harness } from '@fen/server/test/harness'
import { encryptResource, loadApiV3Key, parseXml } from '@fen/wechatpay'
import {
  buildNotification,
  buildV2Notification,
  generateTestMerchant,
  signResponse,
  type TestMerchant,
} from '@fen/wechatpay/testing'
import fc from 'fast-check'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  adminOrder,
  createOrder,
  newTransactionId,
  paidTransaction,
  postNotify,
  prepayNative,
  sandboxPay,
  signedNotification,
  untilStatus,
} from '../api/support'
import { soakTimeout } from '../support/soak'
import {
  expectAlive,
  headerValue,
  hostileString,
  randomBytes,
  runs,
  shortHostileScalar,
  shortHostileString,
  snapshot,
} from './support'

let h: Harness
let stranger: TestMerchant
let token: string
/** The order forged APIv3 notifications try to pay, and the one forged APIv2 ones try. */
let v3Order: Order
let v2Order: Order
let v2Server: Harness | undefined
const V3_TRANSACTION = newTransactionId()
const V2_TRANSACTION = newTransactionId()

beforeAll(async () => {
  ;[h, stranger] = await Promise.all([startHarness(), generateTestMerchant()])
  token = await h.login()
  v3Order = await createOrder(h, token, [{ productId: 2, quantity: 1 }])
  await prepayNative(h, token, v3Order.orderNo)
  // APIv2 notifications pay only orders made under APIv2: this one comes from a second instance
  // on the same database and sandbox, configured for APIv2.
  v2Server = await startHarness({ apiVersion: 'v2', shareDatabaseWith: h })
  v2Order = await createOrder(v2Server, token, [{ productId: 3, quantity: 2 }])
}, 30_000)
afterAll(async () => {
  await v2Server?.close()
  await h?.close()
})
afterEach(async () => {
  if (h) await expectAlive(h)
})

const keys = () => h.sandbox.sandbox.keys
const TIMEOUT = soakTimeout(30_000, 300_000)

interface Sent {
  headers: Record<string, string>
  body: Buffer
}

let eventSeq = 0
/** A genuine TRANSACTION.SUCCESS for the APIv3 order, signed now. */
function genuineV3(patch: Record<string, unknown> = {}): Sent {
  eventSeq += 1
  const n = signedNotification(
    h,
    { ...paidTransaction(h, v3Order, { transactionId: V3_TRANSACTION }), ...patch },
    {
      id: `EV-genuine-${eventSeq}`,
    },
  )
  return { headers: n.headers, body: Buffer.from(n.body) }
}

/** Signs `body` as WeChat does (the sandbox's real key), keeping `Content-Type`. */
function signAsWechat(body: string): Sent {
  const k = keys()
  return {
    headers: {
      'Content-Type': 'application/json',
      ...signResponse({ body, privateKey: k.platformPrivateKey, serial: k.platformPublicKeyId }),
    },
    body: Buffer.from(body),
  }
}

/** The genuine notification's envelope, changed by `change`, re-signed by WeChat's key. */
function resigned(
  n: Sent,
  change: (envelope: Record<string, unknown>, resource: Record<string, unknown>) => void,
): Sent {
  const envelope = JSON.parse(n.body.toString('utf8')) as Record<string, unknown>
  const resource = { ...(envelope.resource as Record<string, unknown>) }
  envelope.resource = resource
  change(envelope, resource)
  return signAsWechat(JSON.stringify(envelope))
}

async function post(n: Sent, path = '/api/pay/notify') {
  return postNotify(h, n, path)
}

// ---- APIv3: what a forger can do to a genuine notification --------------------------------

const SIGNED_HEADERS = [
  'Wechatpay-Timestamp',
  'Wechatpay-Nonce',
  'Wechatpay-Signature',
  'Wechatpay-Serial',
] as const
const ALPHANUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'

/** A mutation as data (so fast-check prints and shrinks it); {@link forge} applies it. */
type Mutation =
  | { kind: 'flip-bit'; at: number; bit: number }
  | { kind: 'set-byte'; at: number; value: number }
  | { kind: 'insert'; at: number; bytes: number[] }
  | { kind: 'delete'; at: number; count: number }
  | { kind: 'truncate'; at: number }
  | { kind: 'append'; bytes: number[] }
  | { kind: 'same-json-other-bytes'; how: 'indent' | 'space' | 'reorder' | 'escape' }
  | {
      kind: 'header'
      name: (typeof SIGNED_HEADERS)[number]
      action: 'delete' | 'empty' | 'junk' | 'char' | 'twice'
      junk: string
      at: number
      char: number
    }
  | { kind: 'timestamp'; delta: number }
  | { kind: 'signature-bytes'; at: number; bit: number }
  | { kind: 'signtest' }
  | { kind: 'serial'; to: 'stranger' | 'lower' | 'junk'; junk: string }
  | { kind: 'ciphertext'; how: 'flip' | 'truncate' | 'extend' | 'random'; at: number; bit: number }
  | { kind: 'nonce'; to: string }
  | { kind: 'associated-data'; to: string | null }
  | { kind: 'algorithm'; to: string }
  | { kind: 'wrong-key'; key: string; patch: Record<string, unknown> }
  | { kind: 'stranger'; how: 'their-key-our-serial' | 'their-key-their-serial' | 'their-apiv3-key' }
  | { kind: 'swap-body'; patch: Record<string, unknown> }
  | {
      kind: 'envelope'
      how:
        | 'no-resource'
        | 'resource-null'
        | 'resource-string'
        | 'id-number'
        | 'no-event-type'
        | 'array'
    }

const byteArray = (max: number) =>
  fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: max })
const resourcePatch = fc.dictionary(
  fc.constantFrom(
    'amount',
    'out_trade_no',
    'appid',
    'mchid',
    'trade_state',
    'transaction_id',
    'success_time',
  ),
  shortHostileScalar,
  { minKeys: 1, maxKeys: 3 },
)

const mutations: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('flip-bit' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('set-byte' as const),
    at: fc.nat(),
    value: fc.integer({ min: 0, max: 255 }),
  }),
  fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), bytes: byteArray(16) }),
  fc.record({
    kind: fc.constant('delete' as const),
    at: fc.nat(),
    count: fc.integer({ min: 1, max: 64 }),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('append' as const), bytes: byteArray(64) }),
  fc.record({
    kind: fc.constant('same-json-other-bytes' as const),
    how: fc.constantFrom('indent', 'space', 'reorder', 'escape'),
  }),
  fc.record({
    kind: fc.constant('header' as const),
    name: fc.constantFrom(...SIGNED_HEADERS),
    action: fc.constantFrom('delete', 'empty', 'junk', 'char', 'twice'),
    junk: headerValue,
    at: fc.nat(),
    char: fc.nat({ max: ALPHANUM.length - 1 }),
  }),
  fc.record({
    kind: fc.constant('timestamp' as const),
    delta: fc
      .oneof(fc.integer({ min: -300, max: 300 }), fc.integer({ min: -1e8, max: 1e8 }))
      .filter((d) => d !== 0),
  }),
  fc.record({
    kind: fc.constant('signature-bytes' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.constant({ kind: 'signtest' as const }),
  fc.record({
    kind: fc.constant('serial' as const),
    to: fc.constantFrom('stranger', 'lower', 'junk'),
    junk: headerValue,
  }),
  fc.record({
    kind: fc.constant('ciphertext' as const),
    how: fc.constantFrom('flip', 'truncate', 'extend', 'random'),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('nonce' as const),
    to: fc.oneof(fc.string({ maxLength: 20 }), fc.stringMatching(/^[A-Za-z0-9]{12}$/)),
  }),
  fc.record({
    kind: fc.constant('associated-data' as const),
    to: fc.option(fc.string({ maxLength: 20 })),
  }),
  fc.record({
    kind: fc.constant('algorithm' as const),
    to: fc.oneof(
      fc.constantFrom('AEAD_AES_128_GCM', 'aead_aes_256_gcm', 'AES_256_CBC', ''),
      fc.string({ maxLength: 20 }),
    ),
  }),
  fc.record({
    kind: fc.constant('wrong-key' as const),
    key: fc.stringMatching(/^[A-Za-z0-9]{32}$/),
    patch: fc.oneof(fc.constant({}), resourcePatch),
  }),
  fc.record({
    kind: fc.constant('stranger' as const),
    how: fc.constantFrom('their-key-our-serial', 'their-key-their-serial', 'their-apiv3-key'),
  }),
  fc.record({ kind: fc.constant('swap-body' as const), patch: resourcePatch }),
  fc.record({
    kind: fc.constant('envelope' as const),
    how: fc.constantFrom(
      'no-resource',
      'resource-null',
      'resource-string',
      'id-number',
      'no-event-type',
      'array',
    ),
  }),
)

/** Applies a mutation to a fresh genuine notification; `statuses` are the answers it may get. */
function forge(m: Mutation): { sent: Sent; statuses: number[] } {
  const n = genuineV3()
  const body = n.body
  const at = (i: number, len = body.length) => i % len
  const bytes = (b: Buffer) => ({ sent: { headers: n.headers, body: b }, statuses: [401] })
  switch (m.kind) {
    case 'flip-bit': {
      const b = Buffer.from(body)
      b[at(m.at)]! ^= 1 << m.bit
      return bytes(b)
    }
    case 'set-byte': {
      const b = Buffer.from(body)
      const i = at(m.at)
      b[i] = b[i] === m.value ? (m.value + 1) % 256 : m.value
      return bytes(b)
    }
    case 'insert': {
      const i = at(m.at, body.length + 1)
      return bytes(Buffer.concat([body.subarray(0, i), Buffer.from(m.bytes), body.subarray(i)]))
    }
    case 'delete': {
      const i = at(m.at)
      return bytes(Buffer.concat([body.subarray(0, i), body.subarray(i + m.count)]))
    }
    case 'truncate':
      return bytes(body.subarray(0, at(m.at)))
    case 'append':
      return bytes(Buffer.concat([body, Buffer.from(m.bytes)]))
    case 'same-json-other-bytes': {
      // The same JSON, other bytes: verification is over the bytes, not the meaning.
      const v = JSON.parse(body.toString('utf8')) as Record<string, unknown>
      const text = {
        indent: () => JSON.stringify(v, null, 2),
        space: () => JSON.stringify(v).replace('":', '": '),
        reorder: () => JSON.stringify(Object.fromEntries(Object.entries(v).reverse())),
        escape: () =>
          JSON.stringify(v).replace(
            /[\u4e00-\u9fff]/g,
            (c) => `\\u${c.charCodeAt(0).toString(16)}`,
          ),
      }[m.how]()
      return bytes(Buffer.from(text))
    }
    case 'header': {
      const headers = { ...n.headers }
      const value = headers[m.name]!
      if (m.action === 'delete') delete headers[m.name]
      else if (m.action === 'empty') headers[m.name] = ''
      else if (m.action === 'junk') headers[m.name] = m.junk === value ? `${m.junk}x` : m.junk
      else if (m.action === 'twice') headers[m.name] = `${value}, ${value}`
      else {
        const i = at(m.at, value.length)
        let c = ALPHANUM[m.char]!
        if (c === value[i]) c = ALPHANUM[(m.char + 1) % ALPHANUM.length]!
        headers[m.name] = value.slice(0, i) + c + value.slice(i + 1)
      }
      // A signature header that decodes to the same bytes is the same signature, not a forgery:
      // base64 decoding skips unused low bits of the last character, characters outside the
      // alphabet, and everything after the first `=` (so `sig, sig` decodes to `sig`).
      const now = headers[m.name]
      if (
        m.name === 'Wechatpay-Signature' &&
        now &&
        Buffer.from(now, 'base64').equals(Buffer.from(value, 'base64'))
      ) {
        headers[m.name] = `${value.slice(0, 10)}${value[10] === 'A' ? 'B' : 'A'}${value.slice(11)}`
      }
      return { sent: { headers, body }, statuses: [401] }
    }
    case 'timestamp': {
      const headers = { ...n.headers }
      headers['Wechatpay-Timestamp'] = String(Number(headers['Wechatpay-Timestamp']) + m.delta)
      return { sent: { headers, body }, statuses: [401] }
    }
    case 'signature-bytes': {
      const headers = { ...n.headers }
      const sig = Buffer.from(headers['Wechatpay-Signature']!, 'base64')
      sig[at(m.at, sig.length)]! ^= 1 << m.bit
      headers['Wechatpay-Signature'] = sig.toString('base64')
      return { sent: { headers, body }, statuses: [401] }
    }
    case 'signtest': {
      const headers = { ...n.headers }
      headers['Wechatpay-Signature'] = `WECHATPAY/SIGNTEST/${headers['Wechatpay-Signature']}`
      return { sent: { headers, body }, statuses: [401] }
    }
    case 'serial': {
      const headers = { ...n.headers }
      const real = headers['Wechatpay-Serial']!
      const to = {
        stranger: stranger.platformPublicKeyId,
        lower: real.toLowerCase(),
        junk: m.junk,
      }[m.to]
      headers['Wechatpay-Serial'] = to === real ? `${real}0` : to
      return { sent: { headers, body }, statuses: [401] }
    }
    // Inside the envelope, re-signed with WeChat's key: the AEAD layer must refuse it.
    case 'ciphertext':
      return {
        sent: resigned(n, (_e, r) => {
          const data = Buffer.from(r.ciphertext as string, 'base64')
          let changed: Buffer
          if (m.how === 'flip') {
            changed = Buffer.from(data)
            changed[at(m.at, data.length)]! ^= 1 << m.bit
          } else if (m.how === 'truncate') changed = data.subarray(0, at(m.at, data.length))
          else if (m.how === 'extend') changed = Buffer.concat([data, Buffer.from([m.bit])])
          else changed = nodeRandomBytes(data.length)
          r.ciphertext = changed.toString('base64')
        }),
        statuses: [401],
      }
    case 'nonce':
      return {
        sent: resigned(n, (_e, r) => {
          r.nonce = m.to === r.nonce ? `${m.to}x` : m.to
        }),
        statuses: [401],
      }
    case 'associated-data':
      return {
        sent: resigned(n, (_e, r) => {
          if (m.to === null) delete r.associated_data
          else r.associated_data = m.to === r.associated_data ? `${m.to}x` : m.to
        }),
        statuses: [401],
      }
    case 'algorithm':
      return {
        sent: resigned(n, (_e, r) => {
          r.algorithm = m.to === 'AEAD_AES_256_GCM' ? 'AEAD_AES_256_GCM ' : m.to
        }),
        statuses: [401],
      }
    case 'wrong-key': {
      const key =
        m.key === keys().apiV3Key ? m.key.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')) : m.key
      return {
        sent: resigned(n, (e) => {
          const plain = {
            ...paidTransaction(h, v3Order, { transactionId: V3_TRANSACTION }),
            ...m.patch,
          }
          e.resource = encryptResource(loadApiV3Key(key), JSON.stringify(plain), {
            associatedData: 'transaction',
            originalType: 'transaction',
          })
        }),
        statuses: [401],
      }
    }
    case 'stranger': {
      const k = keys()
      const forged = buildNotification({
        apiV3Key: m.how === 'their-apiv3-key' ? stranger.apiV3Key : k.apiV3Key,
        privateKey: stranger.platformPrivateKey,
        serial:
          m.how === 'their-key-their-serial' ? stranger.platformPublicKeyId : k.platformPublicKeyId,
        eventType: 'TRANSACTION.SUCCESS',
        resource: paidTransaction(h, v3Order, { transactionId: V3_TRANSACTION }),
      })
      return { sent: { headers: forged.headers, body: Buffer.from(forged.body) }, statuses: [401] }
    }
    case 'swap-body': {
      // The genuine headers over another body (another genuine notification's, with other fields).
      const other = genuineV3(m.patch)
      return { sent: { headers: n.headers, body: other.body }, statuses: [401] }
    }
    case 'envelope':
      // Signed by WeChat but not a notification: 400, "verified but malformed".
      if (m.how === 'array') return { sent: signAsWechat('[1,2]'), statuses: [400] }
      return {
        sent: resigned(n, (e) => {
          if (m.how === 'no-resource') delete e.resource
          else if (m.how === 'resource-null') e.resource = null
          else if (m.how === 'resource-string') e.resource = 'x'
          else if (m.how === 'id-number') e.id = 42
          else delete e.event_type
        }),
        statuses: [400],
      }
  }
}

describe('APIv3: a genuine notification, forged', () => {
  it(
    'is never acknowledged, never a 5xx, and changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(mutations, async (m) => {
          const { sent, statuses } = forge(m)
          const before = await snapshot(h)
          const reply = await post(sent)
          const what = `${JSON.stringify(m)} → ${reply.status} ${reply.text.slice(0, 200)}`
          expect(statuses, what).toContain(reply.status)
          expect(JSON.parse(reply.text), what).toMatchObject({
            code: 'FAIL',
            message: expect.any(String),
          })
          expect(await snapshot(h), what).toEqual(before)
        }),
        runs(60, 800),
      )
    },
    TIMEOUT,
  )

  it('afterwards the genuine notification pays the order, once; its replay changes nothing', async () => {
    const genuine = genuineV3()
    expect((await post(genuine)).status).toBe(204)
    const paid = await adminOrder(h, v3Order.orderNo)
    expect(paid.status).toBe('PAID')
    expect(paid.transactionId).toBe(V3_TRANSACTION)
    expect(paid.payments).toEqual([
      expect.objectContaining({
        transactionId: V3_TRANSACTION,
        amountFen: v3Order.totalFen,
        source: 'notify',
      }),
    ])
    expect(paid.events.map((e) => e.type)).toEqual(['order.paid'])
    const before = await snapshot(h)
    expect((await post(genuine)).status).toBe(204)
    expect(await snapshot(h)).toEqual(before)
  })
})

// ---- APIv2 XML --------------------------------------------------------------------------------

function v2Fields(): Record<string, string | number> {
  const k = keys()
  return {
    appid: k.appid,
    mch_id: k.mchid,
    nonce_str: 'n0nce0000000000000000000000000000',
    openid: 'o-forged-payer',
    trade_type: 'NATIVE',
    bank_type: 'OTHERS',
    total_fee: v2Order.totalFen,
    fee_type: 'CNY',
    cash_fee: v2Order.totalFen,
    transaction_id: V2_TRANSACTION,
    out_trade_no: v2Order.orderNo,
    time_end: '20250101120000',
  }
}
const genuineV2 = () => buildV2Notification(v2Fields(), keys().apiV2Key)

/** An APIv2 XML message written field by field (values as CDATA, as WeChat writes them). */
function xml(fields: [string, string][], prolog = ''): string {
  return `${prolog}<xml>${fields.map(([k, v]) => `<${k}><![CDATA[${v}]]></${k}>`).join('')}</xml>`
}
function fieldsOf(message: string): [string, string][] {
  return [...message.matchAll(/<([a-z_]+)><!\[CDATA\[(.*?)\]\]><\/\1>/g)].map((m) => [m[1]!, m[2]!])
}

/** What an APIv2 message says, as the server's parser reads it (sign in upper case). */
async function meaningOf(message: Buffer): Promise<string | undefined> {
  try {
    const fields = await parseXml(message.toString('utf8'))
    if (typeof fields.sign === 'string') fields.sign = fields.sign.toUpperCase()
    return JSON.stringify(Object.entries(fields).sort(([a], [b]) => a.localeCompare(b)))
  } catch {
    return undefined
  }
}

type V2Mutation =
  | { kind: 'change'; field: number; value: string }
  | { kind: 'add'; name: string; value: string }
  | { kind: 'remove'; field: number }
  | { kind: 'wrong-key'; key: string }
  | { kind: 'sign-type'; to: string }
  | { kind: 'entity'; field: number; how: 'xxe' | 'laughs' | 'undeclared' }
  | { kind: 'duplicate'; field: number }
  | { kind: 'nested'; field: number }
  | { kind: 'attribute'; field: number }
  | { kind: 'huge'; extra: number }
  | { kind: 'flip-bit'; at: number; bit: number }
  | { kind: 'junk'; text: string }

const v2Mutations: fc.Arbitrary<V2Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('change' as const),
    field: fc.nat(),
    value: shortHostileString.filter((s) => s !== '' && !s.includes(']]>')),
  }),
  fc.record({
    kind: fc.constant('add' as const),
    name: fc.stringMatching(/^[a-z_]{1,12}$/),
    value: shortHostileString.filter((s) => s.trim() !== '' && !s.includes(']]>')),
  }),
  fc.record({ kind: fc.constant('remove' as const), field: fc.nat() }),
  fc.record({
    kind: fc.constant('wrong-key' as const),
    key: fc.stringMatching(/^[A-Za-z0-9]{32}$/),
  }),
  fc.record({
    kind: fc.constant('sign-type' as const),
    to: fc.constantFrom('HMAC-SHA256', 'MD5', 'md5', 'SHA1', ''),
  }),
  fc.record({
    kind: fc.constant('entity' as const),
    field: fc.nat(),
    how: fc.constantFrom('xxe', 'laughs', 'undeclared'),
  }),
  fc.record({ kind: fc.constant('duplicate' as const), field: fc.nat() }),
  fc.record({ kind: fc.constant('nested' as const), field: fc.nat() }),
  fc.record({ kind: fc.constant('attribute' as const), field: fc.nat() }),
  fc.record({ kind: fc.constant('huge' as const), extra: fc.integer({ min: -4096, max: 4096 }) }),
  fc.record({
    kind: fc.constant('flip-bit' as const),
    at: fc.nat(),
    bit: fc.integer({ min: 0, max: 7 }),
  }),
  fc.record({
    kind: fc.constant('junk' as const),
    text: fc.oneof(
      hostileString,
      randomBytes.map((b) => b.toString('latin1')),
    ),
  }),
)

const V2_LIMIT = 1024 * 1024
const DTD =
  '<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY xxe SYSTEM "file:///etc/passwd"><!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"><!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'

/** The genuine APIv2 message with one forgery; `statuses` are the answers it may get. */
function forgeV2(m: V2Mutation): { body: Buffer; statuses: number[] } {
  const genuine = genuineV2()
  const fields = fieldsOf(genuine)
  const pick = (i: number) => i % fields.length
  const text = (s: string) => ({ body: Buffer.from(s), statuses: [400, 401] })
  switch (m.kind) {
    case 'change': {
      const i = pick(m.field)
      const changed = fields.map(([k, v], j): [string, string] => [
        k,
        j === i ? (m.value === v ? `${v}0` : m.value) : v,
      ])
      return text(xml(changed))
    }
    case 'add': {
      const name = fields.some(([k]) => k === m.name) ? `${m.name}_x` : m.name
      return text(xml([...fields, [name, m.value]]))
    }
    case 'remove':
      return text(xml(fields.filter((_, j) => j !== pick(m.field))))
    case 'wrong-key':
      return text(
        buildV2Notification(
          v2Fields(),
          m.key === keys().apiV2Key ? m.key.replace(/^./, 'Z') : m.key,
        ),
      )
    case 'sign-type':
      // Claims another sign type over the same (MD5) sign: sign_type is itself signed.
      return text(
        xml([
          ...fields.filter(([k]) => k !== 'sign'),
          ['sign_type', m.to],
          fields.find(([k]) => k === 'sign')!,
        ]),
      )
    case 'entity': {
      const i = pick(m.field)
      const ref = { xxe: '&xxe;', laughs: '&d;', undeclared: '&nope;' }[m.how]
      const body = `${m.how === 'undeclared' ? '' : DTD}<xml>${fields.map(([k, v], j) => (j === i ? `<${k}>${ref}</${k}>` : `<${k}><![CDATA[${v}]]></${k}>`)).join('')}</xml>`
      return text(body)
    }
    case 'duplicate': {
      const i = pick(m.field)
      return text(xml([...fields.slice(0, i + 1), fields[i]!, ...fields.slice(i + 1)]))
    }
    case 'nested': {
      const i = pick(m.field)
      const [k, v] = fields[i]!
      return text(
        genuine.replace(`<${k}><![CDATA[${v}]]></${k}>`, `<${k}><v><![CDATA[${v}]]></v></${k}>`),
      )
    }
    case 'attribute': {
      const i = pick(m.field)
      const [k] = fields[i]!
      return text(genuine.replace(`<${k}>`, `<${k} a="1">`))
    }
    case 'huge': {
      // A padding field that brings the message to about 1 MiB: over the limit, 413.
      const pad = V2_LIMIT - genuine.length + m.extra - '<pad><![CDATA[]]></pad>'.length
      const body = xml([...fields, ['pad', 'x'.repeat(Math.max(1, pad))]])
      return {
        body: Buffer.from(body),
        statuses: Buffer.byteLength(body) > V2_LIMIT ? [413] : [400, 401],
      }
    }
    case 'flip-bit': {
      const b = Buffer.from(genuine)
      b[m.at % b.length]! ^= 1 << m.bit
      return { body: b, statuses: [400, 401] }
    }
    case 'junk':
      return text(m.text)
  }
}

describe('APIv2: a genuine XML notification, forged', () => {
  it(
    'is never acknowledged, never a 5xx, and changes nothing',
    async () => {
      await fc.assert(
        fc.asyncProperty(v2Mutations, async (m) => {
          const { body, statuses } = forgeV2(m)
          // A change the parser does not see is no forgery: the sign is compared in upper case,
          // and sax reads the CDATA keyword in any case (`<![cdata[`). Such runs are skipped.
          fc.pre((await meaningOf(body)) !== (await meaningOf(Buffer.from(genuineV2()))))
          const before = await snapshot(h)
          const reply = await post(
            { headers: { 'Content-Type': 'text/xml' }, body },
            '/api/pay/notify/v2',
          )
          const what = `${JSON.stringify(m).slice(0, 300)} → ${reply.status} ${reply.text.slice(0, 200)}`
          expect(statuses, what).toContain(reply.status)
          expect(reply.contentType, what).toMatch(/xml/)
          expect(reply.text, what).toMatch(/^<xml><return_code><!\[CDATA\[FAIL\]\]><\/return_code>/)
          expect(await snapshot(h), what).toEqual(before)
        }),
        runs(40, 500),
      )
    },
    TIMEOUT,
  )

  it('afterwards the genuine one pays the order, once', async () => {
    const reply = await post(
      { headers: { 'Content-Type': 'text/xml' }, body: Buffer.from(genuineV2()) },
      '/api/pay/notify/v2',
    )
    expect(reply.status, reply.text).toBe(200)
    expect(reply.text).toMatch(/SUCCESS/)
    const paid = await adminOrder(h, v2Order.orderNo)
    expect(paid.status).toBe('PAID')
    expect(paid.payments).toEqual([
      expect.objectContaining({ transactionId: V2_TRANSACTION, amountFen: v2Order.totalFen }),
    ])
    expect(paid.events.map((e) => e.type)).toEqual(['order.paid'])
  })
})

// ---- signed by WeChat, junk inside ------------------------------------------------------------

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v)

/**
 * True when some key or string in `v` holds half a UTF-16 pair or NUL: text no database column can
 * hold, which the server refuses (400) wherever it is in a resource.
 */
function holdsUnstorableText(v: unknown): boolean {
  const bad = (s: string) => s.includes('\u0000') || /\p{Cs}/u.test(s)
  if (typeof v === 'string') return bad(v)
  if (Array.isArray(v)) return v.some(holdsUnstorableText)
  if (isObject(v)) return Object.entries(v).some(([k, x]) => bad(k) || holdsUnstorableText(x))
  return false
}

/** A field of a generated resource: its genuine value, junk, or left out. */
type Field = { genuine: true } | { genuine: false; value: unknown } | { omit: true }
const GENUINE: Field = { genuine: true }
const genuineField: fc.Arbitrary<Field> = fc.constant(GENUINE)
const valueField = (values: fc.Arbitrary<unknown>): fc.Arbitrary<Field> =>
  values.map((value) => ({ genuine: false, value }))
const junkField: fc.Arbitrary<Field> = fc.oneof(
  valueField(shortHostileScalar),
  fc.constant<Field>({ omit: true }),
)
/** Mostly genuine (`weight` to 2), else junk or left out. */
function field(weight: number): fc.Arbitrary<Field> {
  return fc.oneof({ weight, arbitrary: genuineField }, { weight: 2, arbitrary: junkField })
}
/** A generated TRANSACTION.SUCCESS resource, field by field. */
interface TransactionShape {
  appid: Field
  mchid: Field
  out_trade_no: Field
  transaction_id: Field
  trade_state: Field
  amount: Field
  success_time: Field
  payer: Field
  trade_type: Field
  attach: Field
  promotion_detail: Field
  extra: Record<string, unknown>
}

/** A generated REFUND.* resource, field by field. */
interface RefundShape {
  out_refund_no: Field
  refund_status: Field
  amount: Field
  success_time: Field
  refund_id: Field
  extra: Record<string, unknown>
}

function put(target: Record<string, unknown>, key: string, f: Field, genuine: unknown) {
  if ('omit' in f) delete target[key]
  else target[key] = f.genuine ? genuine : f.value
}

/** Encrypts `plaintext` with the real APIv3 key into a signed envelope, as WeChat sends it. */
function wechatSends(eventType: unknown, plaintext: string, originalType: string): Sent {
  const envelope = {
    id: `EV-junk-${(eventSeq += 1)}`,
    create_time: '2025-01-01T12:00:00+08:00',
    resource_type: 'encrypt-resource',
    event_type: eventType,
    summary: '支付成功',
    resource: encryptResource(loadApiV3Key(keys().apiV3Key), plaintext, {
      associatedData: originalType,
      originalType,
    }),
  }
  return signAsWechat(JSON.stringify(envelope))
}

describe('signed by WeChat, junk inside: never a 5xx, and only a matching payment pays', () => {
  it(
    'TRANSACTION.SUCCESS with generated fields',
    async () => {
      const transaction: fc.Arbitrary<TransactionShape> = fc.record({
        appid: field(8),
        mchid: field(8),
        out_trade_no: field(8),
        transaction_id: field(6),
        trade_state: fc.oneof(
          { weight: 6, arbitrary: genuineField },
          {
            weight: 2,
            arbitrary: valueField(
              fc.constantFrom('REFUND', 'NOTPAY', 'CLOSED', 'PAYERROR', 'success'),
            ),
          },
          { weight: 1, arbitrary: junkField },
        ),
        amount: fc.oneof(
          { weight: 6, arbitrary: genuineField },
          {
            weight: 2,
            arbitrary: valueField(
              shortHostileScalar.map((total) => ({ total, payer_total: total, currency: 'CNY' })),
            ),
          },
          { weight: 1, arbitrary: junkField },
        ),
        // Fields the server does not decide on: junk there must not stop a real payment.
        success_time: field(2),
        payer: field(2),
        trade_type: field(2),
        attach: field(2),
        promotion_detail: field(2),
        extra: fc.dictionary(fc.string({ maxLength: 10 }), shortHostileScalar, { maxKeys: 3 }),
      })
      const topLevel = fc.oneof(
        { weight: 12, arbitrary: transaction },
        {
          weight: 1,
          arbitrary: fc
            .oneof(shortHostileScalar, fc.array(shortHostileScalar, { maxLength: 3 }))
            .map((junk) => ({ junk })),
        },
      )
      const eventType = fc.oneof(
        { weight: 10, arbitrary: fc.constant('TRANSACTION.SUCCESS') },
        {
          weight: 1,
          arbitrary: fc.oneof(
            shortHostileString,
            fc.constantFrom('REFUND.SUCCESS', 'transaction.success'),
          ),
        },
      )

      // Transaction ids that already paid an order: another order reported with one is held.
      const used = new Set<string>()
      let cleanRuns = 0
      const genuineShape: TransactionShape = {
        appid: GENUINE,
        mchid: GENUINE,
        out_trade_no: GENUINE,
        transaction_id: GENUINE,
        trade_state: GENUINE,
        amount: GENUINE,
        success_time: GENUINE,
        payer: GENUINE,
        trade_type: GENUINE,
        attach: GENUINE,
        promotion_detail: GENUINE,
        extra: {},
      }
      await fc.assert(
        fc.asyncProperty(
          topLevel,
          eventType,
          fc.integer({ min: 1, max: 9 }),
          async (shape, type, quantity) => {
            // A fresh order each run (the 1-fen product, `quantity` fen): a matching payment pays it.
            const order = await createOrder(h, token, [{ productId: 5, quantity }])
            const genuine = paidTransaction(h, order) as Record<string, unknown>
            let resource: unknown
            if ('junk' in shape) resource = shape.junk
            else {
              const r: Record<string, unknown> = { ...shape.extra, ...genuine }
              for (const key of [
                'appid',
                'mchid',
                'out_trade_no',
                'transaction_id',
                'trade_state',
                'amount',
                'success_time',
                'payer',
                'trade_type',
                'attach',
                'promotion_detail',
              ] as const) {
                put(r, key, shape[key], genuine[key])
              }
              resource = r
            }
            const sent = wechatSends(type, JSON.stringify(resource), 'transaction')
            const reply = await post(sent)
            const what = `${JSON.stringify({ type, resource }).slice(0, 600)} → ${reply.status} ${reply.text.slice(0, 200)}`
            expect([204, 400], what).toContain(reply.status)

            const after = await adminOrder(h, order.orderNo)
            const r = isObject(resource) ? resource : {}
            const k = keys()
            const matches =
              type === 'TRANSACTION.SUCCESS' &&
              r.appid === k.appid &&
              r.mchid === k.mchid &&
              r.out_trade_no === order.orderNo &&
              isObject(r.amount) &&
              r.amount.total === order.totalFen &&
              (r.trade_state === 'SUCCESS' || r.trade_state === 'REFUND')
            const clean =
              matches &&
              !holdsUnstorableText(r) &&
              r.trade_state === 'SUCCESS' &&
              typeof r.transaction_id === 'string' &&
              r.transaction_id !== '' &&
              !used.has(r.transaction_id)
            expectPaymentConsistent(after, order, what)
            if (after.transactionId) used.add(after.transactionId)
            if (!matches)
              expect(after.status, `paid by a payment that does not match it: ${what}`).toBe(
                'PENDING',
              )
            if (clean) {
              cleanRuns += 1
              expect(reply.status, what).toBe(204)
              expect(after.status, `a matching payment was not applied: ${what}`).toBe('PAID')
              expect(
                after.events.map((e) => e.type),
                what,
              ).toEqual(['order.paid'])
            }
          },
        ),
        {
          ...runs<[TransactionShape | { junk: unknown }, string, number]>(20, 300),
          // Always one untouched transaction: the matching payment must go through.
          examples: [[genuineShape, 'TRANSACTION.SUCCESS', 7]],
        },
      )
      expect(cleanRuns).toBeGreaterThan(0)
    },
    TIMEOUT,
  )

  it(
    'REFUND.* with generated fields',
    async () => {
      // WeChat takes at most 50 refunds of one payment (and so does the sandbox): a new paid
      // order every 40 runs.
      const paidOrder = async () => {
        const o = await createOrder(h, token, [{ productId: 4, quantity: 1 }])
        await sandboxPay(h, { code_url: await prepayNative(h, token, o.orderNo) })
        await untilStatus(h, o.orderNo, 'PAID')
        return o
      }
      let order = await paidOrder()
      let refundsOfOrder = 0
      const refundFields: fc.Arbitrary<RefundShape> = fc.record({
        out_refund_no: fc.oneof(
          { weight: 8, arbitrary: genuineField },
          { weight: 1, arbitrary: junkField },
        ),
        refund_status: fc.oneof(
          {
            weight: 6,
            arbitrary: valueField(fc.constantFrom('SUCCESS', 'CLOSED', 'ABNORMAL', 'PROCESSING')),
          },
          { weight: 2, arbitrary: junkField },
        ),
        amount: fc.oneof(
          { weight: 6, arbitrary: genuineField },
          {
            weight: 2,
            arbitrary: valueField(
              shortHostileScalar.map((refund) => ({
                total: order.totalFen,
                refund,
                payer_total: order.totalFen,
                payer_refund: refund,
              })),
            ),
          },
          { weight: 1, arbitrary: junkField },
        ),
        success_time: field(3),
        refund_id: field(3),
        extra: fc.dictionary(fc.string({ maxLength: 10 }), shortHostileScalar, { maxKeys: 2 }),
      })
      const eventType = fc.constantFrom('REFUND.SUCCESS', 'REFUND.ABNORMAL', 'REFUND.CLOSED')
      let cleanRuns = 0
      const cleanShape: RefundShape = {
        out_refund_no: GENUINE,
        refund_status: { genuine: false, value: 'SUCCESS' },
        amount: GENUINE,
        success_time: GENUINE,
        refund_id: GENUINE,
        extra: {},
      }

      await fc.assert(
        fc.asyncProperty(refundFields, eventType, async (shape, type) => {
          // A fresh 1-fen refund each run, PROCESSING at WeChat (the sandbox does not settle it).
          if (refundsOfOrder === 40) {
            order = await paidOrder()
            refundsOfOrder = 0
          }
          refundsOfOrder += 1
          const created = await h.admin<{ outRefundNo: string; status: string }>(
            'POST',
            `/api/admin/orders/${order.orderNo}/refunds`,
            { amountFen: 1, reason: '退款' },
          )
          expect(created.status, JSON.stringify(created.body)).toBe(201)
          expect(created.body.status).toBe('PROCESSING')
          const k = keys()
          const genuine: Record<string, unknown> = {
            mchid: k.mchid,
            transaction_id: 'x',
            out_trade_no: order.orderNo,
            out_refund_no: created.body.outRefundNo,
            refund_id: `50${Date.now()}`,
            refund_status: 'SUCCESS',
            success_time: '2025-01-01T12:00:00+08:00',
            user_received_account: '支付用户零钱',
            amount: {
              total: order.totalFen,
              refund: 1,
              payer_total: order.totalFen,
              payer_refund: 1,
            },
          }
          const r: Record<string, unknown> = { ...shape.extra, ...genuine }
          for (const key of [
            'out_refund_no',
            'refund_status',
            'amount',
            'success_time',
            'refund_id',
          ] as const)
            put(r, key, shape[key], genuine[key])
          const reply = await post(wechatSends(type, JSON.stringify(r), 'refund'))
          const what = `${type} ${JSON.stringify(r).slice(0, 600)} → ${reply.status} ${reply.text.slice(0, 200)}`
          expect([204, 400], what).toContain(reply.status)

          const after = await adminOrder(h, order.orderNo)
          const settled = after.refunds.filter((x) => x.status === 'SUCCESS')
          expect(after.refundedFen, what).toBe(settled.reduce((s, x) => s + x.amountFen, 0))
          expect(after.refundedFen, what).toBeLessThanOrEqual(after.totalFen)
          // One order.refunded event per settled refund, and none for any other.
          const refundedEvents = await h.database.db.query.outboxEvents.findMany({
            where: (t, { and, eq }) =>
              and(eq(t.orderNo, order.orderNo), eq(t.type, 'order.refunded')),
          })
          expect(refundedEvents.map((e) => e.dedupeKey).sort(), what).toEqual(
            settled.map((x) => x.outRefundNo).sort(),
          )
          const mine = after.refunds.find((x) => x.outRefundNo === created.body.outRefundNo)!
          const clean =
            !holdsUnstorableText(r) &&
            r.out_refund_no === created.body.outRefundNo &&
            r.refund_status === 'SUCCESS' &&
            isObject(r.amount) &&
            r.amount.refund === 1
          if (clean) {
            cleanRuns += 1
            expect(mine.status, `a matching refund result was not applied: ${what}`).toBe('SUCCESS')
          }
          if (isObject(r.amount) && r.amount.refund !== 1)
            expect(mine.status, what).toBe('PROCESSING')
        }),
        {
          ...runs<[RefundShape, string]>(20, 250),
          // Always one clean result: the matching refund must settle.
          examples: [[cleanShape, 'REFUND.SUCCESS']],
        },
      )
      expect(cleanRuns).toBeGreaterThan(0)
    },
    TIMEOUT,
  )
})

/** Whatever happened, an order's payments agree with it: at most one, of its exact amount. */
function expectPaymentConsistent(o: AdminOrderDetail, order: Order, what: string) {
  if (o.status === 'PENDING') {
    expect(o.payments, what).toEqual([])
    expect(o.events, what).toEqual([])
    return
  }
  expect(o.status, what).toBe('PAID')
  expect(o.payments, what).toHaveLength(1)
  expect(o.payments[0]!.amountFen, what).toBe(order.totalFen)
  expect(o.events.filter((e) => e.type === 'order.paid').length, what).toBeLessThanOrEqual(1)
}

describe('found by these properties (kept as plain regressions)', () => {
  it('a signed resource that is not a JSON object is 400 (was a 500 for null)', async () => {
    for (const resource of ['null', '1', '"x"', 'true']) {
      const before = await snapshot(h)
      const reply = await post(wechatSends('TRANSACTION.SUCCESS', resource, 'transaction'))
      expect(reply.status, `${resource} → ${reply.text}`).toBe(400)
      expect(await snapshot(h)).toEqual(before)
    }
  })

  it('a signed resource holding half a UTF-16 pair or NUL is 400 and changes nothing (was a 500 on PostgreSQL, which cannot store either)', async () => {
    const order = await createOrder(h, token, [{ productId: 5, quantity: 2 }])
    for (const transactionId of ['\udfff', 'a\ud83d', 'x\u0000']) {
      const before = await snapshot(h)
      const reply = await post(
        wechatSends(
          'TRANSACTION.SUCCESS',
          JSON.stringify({ ...paidTransaction(h, order), transaction_id: transactionId }),
          'transaction',
        ),
      )
      expect(reply.status, reply.text).toBe(400)
      expect(await snapshot(h)).toEqual(before)
    }
  })

  it('a matching payment whose success_time cannot be read still pays the order (was a 500)', async () => {
    for (const successTime of ['garbage', '2025-13-45T99:00:00+08:00', '']) {
      const order = await createOrder(h, token, [{ productId: 5, quantity: 3 }])
      const reply = await post(
        wechatSends(
          'TRANSACTION.SUCCESS',
          JSON.stringify({ ...paidTransaction(h, order), success_time: successTime }),
          'transaction',
        ),
      )
      expect(reply.status, reply.text).toBe(204)
      const paid = await adminOrder(h, order.orderNo)
      expect(paid.status).toBe('PAID')
      expect(paid.events.map((e) => e.type)).toEqual(['order.paid'])
    }
  })

  it('a payment whose transaction id already paid another order is held for review, not a 500', async () => {
    const first = await createOrder(h, token, [{ productId: 5, quantity: 4 }])
    const second = await createOrder(h, token, [{ productId: 5, quantity: 4 }])
    const transactionId = newTransactionId()
    expect(
      (
        await post(
          wechatSends(
            'TRANSACTION.SUCCESS',
            JSON.stringify(paidTransaction(h, first, { transactionId })),
            'transaction',
          ),
        )
      ).status,
    ).toBe(204)
    expect((await adminOrder(h, first.orderNo)).status).toBe('PAID')
    const reply = await post(
      wechatSends(
        'TRANSACTION.SUCCESS',
        JSON.stringify(paidTransaction(h, second, { transactionId })),
        'transaction',
      ),
    )
    expect(reply.status, reply.text).toBe(204)
    const held = await adminOrder(h, second.orderNo)
    expect(held.status).toBe('PENDING')
    expect(held.payments).toEqual([])
    expect(held.notifications).toEqual([
      expect.objectContaining({
        outcome: 'rejected',
        detail: expect.stringContaining(transactionId),
      }),
    ])
  })

  it('a refund result with an unknown refund_status is 400 and changes nothing; an unreadable success_time still settles it (both were 500s)', async () => {
    const order = await createOrder(h, token, [{ productId: 4, quantity: 1 }])
    await sandboxPay(h, { code_url: await prepayNative(h, token, order.orderNo) })
    await untilStatus(h, order.orderNo, 'PAID')
    const refund = await h.admin<{ outRefundNo: string }>(
      'POST',
      `/api/admin/orders/${order.orderNo}/refunds`,
      { amountFen: 10, reason: '退款' },
    )
    expect(refund.status).toBe(201)
    const result = (patch: object) =>
      JSON.stringify({
        mchid: keys().mchid,
        out_trade_no: order.orderNo,
        out_refund_no: refund.body.outRefundNo,
        refund_id: '50000000000000000000000000001',
        refund_status: 'SUCCESS',
        success_time: '2025-01-01T12:00:00+08:00',
        amount: {
          total: order.totalFen,
          refund: 10,
          payer_total: order.totalFen,
          payer_refund: 10,
        },
        ...patch,
      })
    for (const status of ['BOGUS', null, 7, 'success']) {
      const before = await snapshot(h)
      const reply = await post(
        wechatSends('REFUND.SUCCESS', result({ refund_status: status }), 'refund'),
      )
      expect(reply.status, `${String(status)} → ${reply.text}`).toBe(400)
      expect(await snapshot(h)).toEqual(before)
    }
    const reply = await post(
      wechatSends('REFUND.SUCCESS', result({ success_time: 'junk' }), 'refund'),
    )
    expect(reply.status, reply.text).toBe(204)
    const settled = await adminOrder(h, order.orderNo)
    expect(settled.refunds).toEqual([
      expect.objectContaining({ outRefundNo: refund.body.outRefundNo, status: 'SUCCESS' }),
    ])
    expect(settled.refundedFen).toBe(10)
  })
})

/**
 * `pnpm bench:sdk` — what the SDK's hot paths cost, next to the floor (raw `crypto.sign` /
 * `crypto.verify` with a parsed KeyObject) and two other Node SDKs, measured in one run so that
 * ratios hold even on a noisy machine.
 *
 * Method: every case runs for BENCH_MS (default 300 ms) per round, rounds interleave the cases
 * (A B C … A B C …), and we report the median ops/s with min–max over ROUNDS (default 7) rounds.
 * Ratios are medians of per-round ratios, so a slow moment hits both sides of a ratio alike.
 * Prints figures only; it asserts nothing.
 */
import { createPublicKey, sign as rsaSign, verify as rsaVerify } from 'node:crypto'
import os from 'node:os'
import {
  PublicKeyVerifier,
  buildRequestMessage,
  createRsaSigner,
  loadApiV3Key,
  loadPrivateKey,
  parseNotification,
  randomNonce,
  signRequest,
} from '@fen/wechatpay'
import { buildNotification, generateTestMerchant } from '@fen/wechatpay/testing'
import { Aes, Formatter, Rsa } from 'wechatpay-axios-plugin'
import WxPay from 'wechatpay-node-v3'
import { fmt, median } from './util'

const ROUNDS = Number(process.env.ROUNDS ?? 7)
const BENCH_MS = Number(process.env.BENCH_MS ?? 300)

type Case = { name: string; run: () => unknown | Promise<unknown> }

async function measure(run: Case['run'], ms: number): Promise<number> {
  const isAsync = run() instanceof Promise
  let ops = 0
  const start = process.hrtime.bigint()
  const deadline = start + BigInt(ms) * 1_000_000n
  let now = start
  while (now < deadline) {
    // Batches of 8 keep the clock reads out of the measurement.
    for (let i = 0; i < 8; i++) {
      if (isAsync) await run()
      else run()
    }
    ops += 8
    now = process.hrtime.bigint()
  }
  return ops / (Number(now - start) / 1e9)
}

async function main(): Promise<void> {
  const m = await generateTestMerchant()
  const privateKey = loadPrivateKey(m.merchantPrivateKey)
  const signer = createRsaSigner(privateKey)
  const now = Math.floor(Date.now() / 1000)

  // A realistic JSAPI prepay body: the request every pay endpoint signs.
  const body = JSON.stringify({
    appid: m.appid,
    mchid: m.mchid,
    description: 'Fen 演示商品 × 2',
    out_trade_no: 'FEN20261122000000000001',
    notify_url: 'https://shop.example.com/api/pay/notify',
    amount: { total: 2990, currency: 'CNY' },
    payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
  })
  const url = '/v3/pay/transactions/jsapi'

  // A TRANSACTION.SUCCESS notification signed with the WeChat Pay public key.
  const notification = buildNotification({
    apiV3Key: m.apiV3Key,
    privateKey: m.platformPrivateKey,
    serial: m.platformPublicKeyId,
    eventType: 'TRANSACTION.SUCCESS',
    timestamp: now,
    resource: {
      appid: m.appid,
      mchid: m.mchid,
      out_trade_no: 'FEN20261122000000000001',
      transaction_id: '4200001460202211220000000001',
      trade_type: 'JSAPI',
      trade_state: 'SUCCESS',
      trade_state_desc: '支付成功',
      bank_type: 'OTHERS',
      attach: '',
      success_time: '2026-11-22T10:00:00+08:00',
      payer: { openid: 'oUpF8uMuAJO_M2pxb1Q9zNjWeS6o' },
      amount: { total: 2990, payer_total: 2990, currency: 'CNY', payer_currency: 'CNY' },
    },
  })
  const rawBody = Buffer.from(notification.body)
  const headers = Object.fromEntries(
    Object.entries(notification.headers).map(([k, v]) => [k.toLowerCase(), v]),
  )
  const verifier = new PublicKeyVerifier(m.platformPublicKeyId, m.platformPublicKey)
  const apiV3Key = loadApiV3Key(m.apiV3Key)
  const platformPublicKey = createPublicKey(m.platformPublicKey)
  // Every handler parses the envelope to reach the resource, so the peers' cases do it too.
  type Envelope = { resource: { ciphertext: string; nonce: string; associated_data: string } }

  // wechatpay-node-v3: configured as its README shows (PEM buffers; certificates cached by serial).
  const nodeV3 = new WxPay({
    appid: m.appid,
    mchid: m.mchid,
    serial_no: m.merchantSerialNo,
    publicKey: Buffer.from(m.merchantCertificate),
    privateKey: Buffer.from(m.merchantPrivateKey),
    key: m.apiV3Key,
  })
  ;(WxPay as unknown as { certificates: Record<string, string> }).certificates[
    m.platformPublicKeyId
  ] = m.platformPublicKey

  // wechatpay-axios-plugin: keys loaded once into KeyObjects, as its README recommends.
  const axiosPrivateKey = Rsa.from(m.merchantPrivateKey, Rsa.KEY_TYPE_PRIVATE)
  const axiosPublicKey = Rsa.from(m.platformPublicKey, Rsa.KEY_TYPE_PUBLIC)

  const cases: Case[] = [
    {
      name: 'Fen: Authorization header (signRequest)',
      run: () =>
        signRequest({
          signer,
          mchid: m.mchid,
          serialNo: m.merchantSerialNo,
          method: 'POST',
          url,
          body,
          timestamp: now,
          nonce: randomNonce(),
        }),
    },
    {
      name: 'raw crypto.sign, KeyObject (floor)',
      run: () =>
        rsaSign(
          'sha256',
          Buffer.from(buildRequestMessage('POST', url, now, 'n'.repeat(32), body)),
          privateKey,
        ).toString('base64'),
    },
    {
      name: 'raw crypto.sign, PEM parsed per call',
      run: () =>
        rsaSign(
          'sha256',
          Buffer.from(buildRequestMessage('POST', url, now, 'n'.repeat(32), body)),
          m.merchantPrivateKey,
        ).toString('base64'),
    },
    {
      name: 'wechatpay-node-v3: Authorization header',
      run: () => {
        const nonce = randomNonce()
        const sig = nodeV3.getSignature('POST', nonce, String(now), url, body)
        return nodeV3.getAuthorization(nonce, String(now), sig)
      },
    },
    {
      name: 'wechatpay-axios-plugin: Authorization header',
      run: () => {
        const nonce = Formatter.nonce()
        const sig = Rsa.sign(Formatter.request('POST', url, now, nonce, body), axiosPrivateKey)
        return Formatter.authorization(m.mchid, nonce, sig, now, m.merchantSerialNo)
      },
    },
    {
      name: 'Fen: notification verify+decrypt (parseNotification)',
      run: () => parseNotification({ headers, body: rawBody, verifier, apiV3Key, nowSeconds: now }),
    },
    {
      name: 'raw crypto.verify, KeyObject (floor)',
      run: () =>
        rsaVerify(
          'sha256',
          Buffer.from(
            `${headers['wechatpay-timestamp']}\n${headers['wechatpay-nonce']}\n${notification.body}\n`,
          ),
          platformPublicKey,
          Buffer.from(headers['wechatpay-signature'] as string, 'base64'),
        ),
    },
    {
      name: 'wechatpay-node-v3: notification verify+decrypt',
      run: async () => {
        const ok = await nodeV3.verifySign({
          timestamp: headers['wechatpay-timestamp'] as string,
          nonce: headers['wechatpay-nonce'] as string,
          body: notification.body,
          serial: headers['wechatpay-serial'] as string,
          signature: headers['wechatpay-signature'] as string,
        })
        if (!ok) throw new Error('wechatpay-node-v3 failed to verify')
        const r = (JSON.parse(notification.body) as Envelope).resource
        return nodeV3.decipher_gcm(r.ciphertext, r.associated_data, r.nonce, m.apiV3Key)
      },
    },
    {
      name: 'wechatpay-axios-plugin: notification verify+decrypt',
      run: () => {
        const message = Formatter.response(
          headers['wechatpay-timestamp'] as string,
          headers['wechatpay-nonce'] as string,
          notification.body,
        )
        if (!Rsa.verify(message, headers['wechatpay-signature'] as string, axiosPublicKey)) {
          throw new Error('wechatpay-axios-plugin failed to verify')
        }
        const r = (JSON.parse(notification.body) as Envelope).resource
        return JSON.parse(Aes.AesGcm.decrypt(r.ciphertext, m.apiV3Key, r.nonce, r.associated_data))
      },
    },
  ]

  // Warm up JIT and key caches.
  for (const c of cases) await measure(c.run, 50)

  const samples = new Map<string, number[]>(cases.map((c) => [c.name, []]))
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of cases) samples.get(c.name)!.push(await measure(c.run, BENCH_MS))
  }

  const cpu = os.cpus()[0]?.model ?? 'unknown CPU'
  console.log(`# SDK benchmark — ${new Date().toISOString()}`)
  console.log(
    `machine: ${cpu}, ${os.cpus().length} cores, Node ${process.version}, ${os.platform()}`,
  )
  console.log(`method: ${ROUNDS} interleaved rounds × ${BENCH_MS} ms per case; RSA-2048 keys\n`)
  console.log('| case | ops/s (median) | min–max |')
  console.log('| --- | ---: | ---: |')
  for (const c of cases) {
    const xs = samples.get(c.name)!
    console.log(
      `| ${c.name} | ${fmt(median(xs))} | ${fmt(Math.min(...xs))}–${fmt(Math.max(...xs))} |`,
    )
  }

  const ratio = (a: string, b: string) => {
    const as = samples.get(a)!
    const bs = samples.get(b)!
    return median(as.map((x, i) => x / (bs[i] as number)))
  }
  const ours = cases[0]!.name
  const floor = cases[1]!.name
  console.log('\nratios (median of per-round ratios):')
  console.log(
    `- Fen signing ÷ raw crypto.sign with KeyObject: ${ratio(ours, floor).toFixed(3)} (target ≥ 0.9)`,
  )
  console.log(
    `- raw crypto.sign with PEM per call ÷ with KeyObject: ${ratio(cases[2]!.name, floor).toFixed(3)}`,
  )
  console.log(`- Fen signing ÷ wechatpay-node-v3: ${ratio(ours, cases[3]!.name).toFixed(2)}`)
  console.log(`- Fen signing ÷ wechatpay-axios-plugin: ${ratio(ours, cases[4]!.name).toFixed(2)}`)
  console.log(
    `- Fen verify+decrypt ÷ raw crypto.verify: ${ratio(cases[5]!.name, cases[6]!.name).toFixed(3)}`,
  )
  console.log(
    `- Fen verify+decrypt ÷ wechatpay-node-v3: ${ratio(cases[5]!.name, cases[7]!.name).toFixed(2)}`,
  )
  console.log(
    `- Fen verify+decrypt ÷ wechatpay-axios-plugin: ${ratio(cases[5]!.name, cases[8]!.name).toFixed(2)}`,
  )
}

main().catch((e) => {
  console.error(e)
  process.exitCode = 1
})

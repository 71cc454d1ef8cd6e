import { createDecipheriv, randomBytes } from 'node:crypto'
import { createRequire } from 'node:module'
import { describe, expect, it } from 'vitest'
import {
  ConfigError,
  DecryptionError,
  SignatureError,
  WechatPayError,
  buildPush,
  decryptPushMessage,
  encryptPushMessage,
  loadEncodingAESKey,
  parsePush,
  pushSignature,
  verifyPushUrl,
  type TradeManageOrderSettlementEvent,
} from '../src'

/** node-webot's wechat-crypto: an implementation no one here wrote, to cross-check ours. */
const WXBizMsgCrypt = createRequire(import.meta.url)('wechat-crypto') as new (
  token: string,
  encodingAESKey: string,
  id: string,
) => {
  getSignature(timestamp: string, nonce: string, encrypt: string): string
  encrypt(text: string): string
  decrypt(text: string): { message: string; id: string }
}

const TOKEN = 'AAAAA'
const APPID = 'wx4f4bc4dec97d474b'
const AES_KEY = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG'
const crypto = { encodingAESKey: AES_KEY, appid: APPID }

const settlement = {
  ToUserName: 'gh_6a3a8a2b5d7c',
  FromUserName: 'o1dwC4pPyWUSrNzcgx7AlyYC4yOE',
  CreateTime: 1714037059,
  MsgType: 'event',
  Event: 'trade_manage_order_settlement',
  transaction_id: '4200001460202212154976584310',
  merchant_id: '1230000109',
  sub_merchant_id: '',
  merchant_trade_no: 'FEN20261202000001',
  pay_time: 1714036000,
  shipped_time: 1714036500,
  estimated_settlement_time: 1714900000,
}

describe('official signature vectors (wechat-ops-api.md §3)', () => {
  it('URL check: Token AAAAA, 1714036504, 1514711492', () => {
    expect(pushSignature(TOKEN, '1714036504', '1514711492')).toBe(
      'f464b24fc39322e44b38aa78f5edd27bd1441696',
    )
  })

  it('plaintext POST: the signature is over Token, timestamp and nonce only, not the body', () => {
    // The vector's message is sha1(sort(['AAAAA', '1714037059', '486452656']).join('')).
    expect(pushSignature(TOKEN, '1714037059', '486452656')).toBe(
      '899cf89e464efb63f54ddac96b0a0a235f53aa78',
    )
  })

  it('verifyPushUrl echoes echostr verbatim when the signature matches', () => {
    const query = new URLSearchParams({
      signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
      timestamp: '1714036504',
      nonce: '1514711492',
      echostr: '4375120948345356249',
    })
    // The vector's own time: a URL check is answered only while fresh.
    expect(verifyPushUrl(query, TOKEN, { nowSeconds: 1714036504 })).toBe('4375120948345356249')
  })

  it('verifyPushUrl refuses a check more than 5 minutes old or ahead (stale_timestamp)', () => {
    const query = {
      signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
      timestamp: '1714036504',
      nonce: '1514711492',
      echostr: '4375120948345356249',
    }
    for (const nowSeconds of [1714036504 + 300, 1714036504 - 300]) {
      expect(verifyPushUrl(query, TOKEN, { nowSeconds })).toBe('4375120948345356249')
    }
    for (const nowSeconds of [1714036504 + 301, 1714036504 - 301, 1714036504 + 365 * 86400]) {
      expect(() => verifyPushUrl(query, TOKEN, { nowSeconds })).toThrow(
        expect.objectContaining({ reason: 'stale_timestamp' }),
      )
    }
    // By default against the system clock: this 2024 vector is long stale.
    expect(() => verifyPushUrl(query, TOKEN)).toThrow(
      expect.objectContaining({ reason: 'stale_timestamp' }),
    )
    expect(verifyPushUrl(query, TOKEN, { toleranceSeconds: false })).toBe('4375120948345356249')
  })

  it('verifyPushUrl refuses a wrong Token or missing fields', () => {
    const query = {
      signature: 'f464b24fc39322e44b38aa78f5edd27bd1441696',
      timestamp: '1714036504',
      nonce: '1514711492',
      echostr: 'x',
    }
    expect(() => verifyPushUrl(query, 'BBBBB')).toThrow(SignatureError)
    const { echostr: _, ...noEcho } = query
    expect(() => verifyPushUrl(noEcho, TOKEN)).toThrow(SignatureError)
  })
})

describe('安全模式 crypto', () => {
  it('round-trips, and pads to 32-byte blocks (a full block when already aligned)', () => {
    for (const message of ['', 'a', 'x'.repeat(12), '你好，世界'.repeat(40)]) {
      const encrypt = encryptPushMessage(message, crypto)
      expect(Buffer.from(encrypt, 'base64').length % 32).toBe(0)
      expect(decryptPushMessage(encrypt, crypto)).toBe(message)
    }
    // 16 random + 4 length + 26 message + 18 appid = 64 bytes: a whole block of 32 × 0x20 follows.
    const aligned = encryptPushMessage('y'.repeat(26), crypto)
    const key = loadEncodingAESKey(AES_KEY)
    const decipher = createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false)
    const plain = Buffer.concat([decipher.update(Buffer.from(aligned, 'base64')), decipher.final()])
    expect(plain.length).toBe(96)
    expect([...plain.subarray(64)]).toEqual(Array(32).fill(32))
    expect(plain.readUInt32BE(16)).toBe(26)
    expect(plain.subarray(20 + 26, 64).toString()).toBe(APPID)
  })

  it('is deterministic for a fixed random prefix', () => {
    const random = Buffer.alloc(16, 7)
    expect(encryptPushMessage('hello', { ...crypto, random })).toBe(
      encryptPushMessage('hello', { ...crypto, random }),
    )
  })

  it('agrees with wechat-crypto both ways (signature, encryption, decryption)', () => {
    const peer = new WXBizMsgCrypt(TOKEN, AES_KEY, APPID)
    const message = JSON.stringify(settlement)
    const theirs = peer.encrypt(message)
    expect(decryptPushMessage(theirs, crypto)).toBe(message)
    const ours = encryptPushMessage(message, crypto)
    expect(peer.decrypt(ours)).toEqual({ message, id: APPID })
    expect(pushSignature(TOKEN, '1714037059', '486452656', ours)).toBe(
      peer.getSignature('1714037059', '486452656', ours),
    )
  })

  it('refuses a push for another appid, a wrong key and tampered bytes', () => {
    const encrypt = encryptPushMessage('{"a":1}', crypto)
    expect(() => decryptPushMessage(encrypt, { ...crypto, appid: 'wx0000000000000000' })).toThrow(
      DecryptionError,
    )
    const otherKey = randomBytes(32).toString('base64').slice(0, 43)
    expect(() => decryptPushMessage(encrypt, { ...crypto, encodingAESKey: otherKey })).toThrow(
      DecryptionError,
    )
    const bytes = Buffer.from(encrypt, 'base64')
    bytes[bytes.length - 1]! ^= 0x55
    expect(() => decryptPushMessage(bytes.toString('base64'), crypto)).toThrow(DecryptionError)
  })

  it('refuses an EncodingAESKey that is not 43 characters', () => {
    expect(() => loadEncodingAESKey(AES_KEY.slice(1))).toThrow(ConfigError)
    expect(() => loadEncodingAESKey(`${AES_KEY}=`)).toThrow(ConfigError)
  })
})

/** The time of the vectors below: their pushes are fresh then. */
const AT = { nowSeconds: 1714037059 }

describe('parsePush', () => {
  it('refuses a push whose timestamp is more than 5 minutes from now, even correctly signed', async () => {
    const push = buildPush({
      token: TOKEN,
      message: settlement,
      format: 'json',
      crypto,
      timestamp: '1714037059',
      nonce: '486452656',
    })
    const input = { query: push.query, body: push.body, token: TOKEN, crypto }
    await expect(parsePush({ ...input, nowSeconds: 1714037059 + 300 })).resolves.toMatchObject({
      type: 'trade_manage_order_settlement',
    })
    for (const nowSeconds of [1714037059 + 301, 1714037059 - 301]) {
      await expect(parsePush({ ...input, nowSeconds })).rejects.toMatchObject({
        name: 'SignatureError',
        reason: 'stale_timestamp',
      })
    }
    await expect(parsePush(input)).rejects.toMatchObject({ reason: 'stale_timestamp' })
    await expect(parsePush({ ...input, toleranceSeconds: false })).resolves.toBeDefined()
  })

  it.each(['json', 'xml'] as const)('verifies and types a plaintext %s push', async (format) => {
    const push = buildPush({
      token: TOKEN,
      message: settlement,
      format,
      timestamp: '1714037059',
      nonce: '486452656',
    })
    expect(push.query.signature).toBe('899cf89e464efb63f54ddac96b0a0a235f53aa78')
    const event = await parsePush({ query: push.query, body: push.body, token: TOKEN, ...AT })
    expect(event).toMatchObject({
      type: 'trade_manage_order_settlement',
      stage: 'shipped',
      CreateTime: 1714037059, // a number, from XML text as from JSON
      transaction_id: '4200001460202212154976584310',
      merchant_trade_no: 'FEN20261202000001',
      pay_time: 1714036000,
      shipped_time: 1714036500,
      estimated_settlement_time: 1714900000,
    })
  })

  it.each(['json', 'xml'] as const)(
    'verifies msg_signature, decrypts and types an encrypted %s push',
    async (format) => {
      const settled = {
        ...settlement,
        confirm_receive_method: 2,
        confirm_receive_time: 1714500000,
        settlement_time: 1714600000,
      }
      const push = buildPush({ token: TOKEN, message: settled, format, crypto })
      expect(push.query.encrypt_type).toBe('aes')
      expect(push.body).not.toContain('4200001460202212154976584310')
      const event = (await parsePush({
        query: push.query,
        body: Buffer.from(push.body),
        token: TOKEN,
        crypto,
      })) as TradeManageOrderSettlementEvent
      expect(event.type).toBe('trade_manage_order_settlement')
      expect(event.stage).toBe('settled')
      expect(event.confirm_receive_method).toBe(2)
      expect(event.settlement_time).toBe(1714600000)
    },
  )

  it('reads an encrypted JSON push built by wechat-crypto as WeChat sends it', async () => {
    const peer = new WXBizMsgCrypt(TOKEN, AES_KEY, APPID)
    const Encrypt = peer.encrypt(
      JSON.stringify({ ...settlement, Event: 'trade_manage_remind_shipping', msg: '请尽快发货' }),
    )
    const query = {
      signature: pushSignature(TOKEN, '1714037059', '486452656'),
      timestamp: '1714037059',
      nonce: '486452656',
      encrypt_type: 'aes',
      msg_signature: peer.getSignature('1714037059', '486452656', Encrypt),
    }
    const body = JSON.stringify({ ToUserName: settlement.ToUserName, Encrypt })
    const event = await parsePush({ query, body, token: TOKEN, crypto, ...AT })
    expect(event).toMatchObject({
      type: 'trade_manage_remind_shipping',
      msg: '请尽快发货',
      merchant_id: '1230000109',
    })
  })

  it('types trade_manage_remind_access_api and passes other pushes on as "other"', async () => {
    const remind = buildPush({
      token: TOKEN,
      format: 'xml',
      message: {
        ToUserName: 'gh_1',
        FromUserName: 'o1',
        CreateTime: 1,
        MsgType: 'event',
        Event: 'trade_manage_remind_access_api',
        msg: '请接入发货信息管理',
      },
    })
    expect(await parsePush({ query: remind.query, body: remind.body, token: TOKEN })).toMatchObject(
      {
        type: 'trade_manage_remind_access_api',
        msg: '请接入发货信息管理',
      },
    )
    const text = buildPush({
      token: TOKEN,
      format: 'json',
      message: {
        ToUserName: 'gh_1',
        FromUserName: 'o1',
        CreateTime: 1,
        MsgType: 'text',
        Content: '你好',
        MsgId: 23,
      },
    })
    const other = await parsePush({ query: text.query, body: text.body, token: TOKEN })
    expect(other.type).toBe('other')
    expect(other.MsgType).toBe('text')
    expect(other.raw.Content).toBe('你好')
  })

  it('refuses a bad signature, a bad msg_signature, and a plaintext push when encryption is set', async () => {
    const plain = buildPush({ token: TOKEN, message: settlement, format: 'json' })
    await expect(
      parsePush({ query: plain.query, body: plain.body, token: 'other' }),
    ).rejects.toBeInstanceOf(SignatureError)
    await expect(
      parsePush({ query: plain.query, body: plain.body, token: TOKEN, crypto }),
    ).rejects.toBeInstanceOf(SignatureError)
    const enc = buildPush({ token: TOKEN, message: settlement, format: 'json', crypto })
    const forged = {
      ...enc.query,
      msg_signature: pushSignature('other', enc.query.timestamp!, enc.query.nonce!, 'x'),
    }
    await expect(
      parsePush({ query: forged, body: enc.body, token: TOKEN, crypto }),
    ).rejects.toBeInstanceOf(SignatureError)
    await expect(
      parsePush({ query: enc.query, body: enc.body, token: TOKEN }),
    ).rejects.toBeInstanceOf(ConfigError)
  })

  it('refuses a body that is neither JSON nor XML, and a push without timestamp', async () => {
    const q = { signature: pushSignature(TOKEN, '1', '2'), timestamp: '1', nonce: '2' }
    await expect(parsePush({ query: q, body: 'success', token: TOKEN })).rejects.toBeInstanceOf(
      WechatPayError,
    )
    await expect(
      parsePush({ query: { nonce: '2' }, body: '{}', token: TOKEN }),
    ).rejects.toBeInstanceOf(SignatureError)
  })
})

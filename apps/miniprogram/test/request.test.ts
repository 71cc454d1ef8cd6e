import { describe, expect, it } from 'vitest'
import { ApiRequestError, request } from '@/http/request'
import { session } from '@/http/session'
import { listProducts } from '@/api/products'
import { cancelOrder, createOrder, getOrder, listOrders, payOrder } from '@/api/orders'
import { NETWORK_ERROR, taro } from './taro-mock'
import { TOKEN_KEY, fail, loginAnswer, ok, order, products } from './fixtures'

const { Taro } = taro

async function caught(p: Promise<unknown>): Promise<ApiRequestError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  )
  expect(e).toBeInstanceOf(ApiRequestError)
  return e as ApiRequestError
}

describe('request: transport and token', () => {
  it('sends FEN_API_BASE + path with the stored token as a Bearer authorization', async () => {
    taro.storage.set(TOKEN_KEY, 'tok-stored')
    taro.answer(ok([order()]))

    const data = await request('/api/orders')

    expect(data).toEqual([order()])
    expect(taro.requests).toHaveLength(1)
    const [call] = taro.requests
    expect(call!.url).toBe('http://api.test/api/orders')
    expect(call!.method).toBe('GET')
    expect(call!.header.authorization).toBe('Bearer tok-stored')
    expect(call!.header['content-type']).toBe('application/json')
    expect(call!.data).toBeUndefined()
    expect(Taro.login).not.toHaveBeenCalled()
  })

  it('sends a body as JSON text and merges extra headers', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok({ fine: true }))

    await request('/api/things', { method: 'POST', body: { a: 1 }, headers: { 'x-extra': 'y' } })

    const [call] = taro.requests
    expect(call!.method).toBe('POST')
    expect(call!.data).toBe('{"a":1}')
    expect(call!.header).toMatchObject({ 'x-extra': 'y', authorization: 'Bearer tok' })
  })

  it('with no token, logs in first: platform code → POST /api/auth/login without a token, token stored', async () => {
    taro.answer(loginAnswer('tok-new'), ok([]))

    await request('/api/orders')

    expect(Taro.login).toHaveBeenCalledTimes(1)
    expect(taro.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /api/auth/login',
      'GET /api/orders',
    ])
    const [loginCall, call] = taro.requests
    expect(loginCall!.url).toBe('http://api.test/api/auth/login')
    expect(loginCall!.body).toEqual({ code: 'code-1' })
    expect(loginCall!.header.authorization).toBeUndefined()
    expect(call!.header.authorization).toBe('Bearer tok-new')
    expect(taro.storage.get(TOKEN_KEY)).toBe('tok-new')
  })

  it('concurrent calls without a token share one login', async () => {
    taro.onRequest((call) =>
      call.path === '/api/auth/login' ? loginAnswer('tok-shared') : ok({ path: call.path }),
    )

    const answers = await Promise.all([request('/api/a'), request('/api/b'), request('/api/c')])

    expect(answers).toEqual([{ path: '/api/a' }, { path: '/api/b' }, { path: '/api/c' }])
    expect(Taro.login).toHaveBeenCalledTimes(1)
    expect(taro.requestsTo('/api/auth/login')).toHaveLength(1)
    const calls = taro.requests.filter((r) => r.path !== '/api/auth/login')
    expect(calls).toHaveLength(3)
    for (const c of calls) expect(c.header.authorization).toBe('Bearer tok-shared')
  })

  it('a login that has finished is not reused: the next missing token logs in again', async () => {
    taro.onRequest((call) =>
      call.path === '/api/auth/login'
        ? loginAnswer(`tok-${(call.body as { code: string }).code}`)
        : ok(null),
    )
    await request('/api/a')
    taro.storage.delete(TOKEN_KEY)
    await request('/api/b')

    expect(Taro.login).toHaveBeenCalledTimes(2)
    expect(taro.requestsTo('/api/b')[0]!.header.authorization).toBe('Bearer tok-code-2')
  })

  it('a failed platform login rejects the call and is retried by the next one', async () => {
    taro.loginCode('')
    await expect(request('/api/orders')).rejects.toThrow('微信登录失败')
    expect(taro.requests).toHaveLength(0)

    taro.loginCode(undefined)
    taro.answer(loginAnswer('tok-2'), ok([]))
    await expect(request('/api/orders')).resolves.toEqual([])
    expect(taro.storage.get(TOKEN_KEY)).toBe('tok-2')
  })

  it('a refused login code surfaces as the server error and stores no token', async () => {
    taro.answer(fail('LOGIN_CODE_INVALID', '登录凭证无效'))

    const e = await caught(request('/api/orders'))

    expect(e.code).toBe('LOGIN_CODE_INVALID')
    expect(e.status).toBe(400)
    expect(taro.storage.has(TOKEN_KEY)).toBe(false)
    expect(taro.requestsTo('/api/orders')).toHaveLength(0)
  })

  it('auth:false sends no token and never logs in', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(ok(products))
    await expect(request('/api/products', { auth: false })).resolves.toEqual(products)

    taro.storage.clear()
    taro.answer(ok(products))
    await request('/api/products', { auth: false })

    expect(taro.requests).toHaveLength(2)
    for (const c of taro.requests) expect(c.header.authorization).toBeUndefined()
    expect(Taro.login).not.toHaveBeenCalled()
  })

  it('session.login() logs in now and stores the token', async () => {
    taro.answer(loginAnswer('tok-launch'))
    await expect(session.login()).resolves.toBe('tok-launch')
    await expect(session.token()).resolves.toBe('tok-launch')
    expect(Taro.login).toHaveBeenCalledTimes(1)
  })
})

describe('request: 401 and re-login', () => {
  it('a 401 triggers exactly one re-login and one retry with the new token', async () => {
    taro.storage.set(TOKEN_KEY, 'tok-expired')
    taro.answer(fail('UNAUTHORIZED', '请重新登录'), loginAnswer('tok-fresh'), ok({ done: 1 }))

    await expect(request('/api/orders/X1/cancel', { method: 'POST' })).resolves.toEqual({ done: 1 })

    expect(
      taro.requests.map((r) => `${r.method} ${r.path} ${r.header.authorization ?? '-'}`),
    ).toEqual([
      'POST /api/orders/X1/cancel Bearer tok-expired',
      'POST /api/auth/login -',
      'POST /api/orders/X1/cancel Bearer tok-fresh',
    ])
    expect(Taro.login).toHaveBeenCalledTimes(1)
    expect(taro.storage.get(TOKEN_KEY)).toBe('tok-fresh')
  })

  it('a second 401 surfaces as ApiRequestError UNAUTHORIZED (no loop)', async () => {
    taro.storage.set(TOKEN_KEY, 'tok-expired')
    taro.answer(
      fail('UNAUTHORIZED', '请重新登录'),
      loginAnswer('tok-fresh'),
      fail('UNAUTHORIZED', '登录已失效'),
    )

    const e = await caught(request('/api/orders'))

    expect(e.code).toBe('UNAUTHORIZED')
    expect(e.status).toBe(401)
    expect(e.message).toBe('登录已失效')
    expect(taro.requests).toHaveLength(3)
    expect(Taro.login).toHaveBeenCalledTimes(1)
  })

  it('with auth:false a 401 is not retried', async () => {
    taro.answer(fail('UNAUTHORIZED', '未登录'))

    const e = await caught(request('/api/public', { auth: false }))

    expect(e.code).toBe('UNAUTHORIZED')
    expect(taro.requests).toHaveLength(1)
    expect(Taro.login).not.toHaveBeenCalled()
  })
})

describe('request: errors', () => {
  it("server errors become ApiRequestError with the server's code, message and status", async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(fail('OUT_OF_STOCK', '马克杯库存不足'))

    const e = await caught(request('/api/orders', { method: 'POST', body: { items: [] } }))

    expect(e.name).toBe('ApiRequestError')
    expect(e.code).toBe('OUT_OF_STOCK')
    expect(e.message).toBe('马克杯库存不足')
    expect(e.status).toBe(409)
  })

  it('a 5xx without a body becomes INTERNAL with the status in the message', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer({ statusCode: 502, data: undefined })

    const e = await caught(request('/api/orders'))

    expect(e.code).toBe('INTERNAL')
    expect(e.status).toBe(502)
    expect(e.message).toBe('服务器错误（502）')
  })

  it('a rejected Taro.request becomes code NETWORK (status 0)', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.answer(NETWORK_ERROR)

    const e = await caught(request('/api/orders'))

    expect(e.code).toBe('NETWORK')
    expect(e.status).toBe(0)
    expect(e.message).toBe('网络连接失败，请检查网络后重试')
  })
})

describe('api functions', () => {
  it('call the documented routes, methods and bodies', async () => {
    taro.storage.set(TOKEN_KEY, 'tok')
    taro.onRequest(() => ok({}))

    await listProducts()
    await listOrders()
    await getOrder('A/B')
    await createOrder({ items: [{ productId: 1, quantity: 2 }], deliveryMethod: 'pickup' }, 'key-1')
    await payOrder('N1', 'native')
    await cancelOrder('N1')

    expect(
      taro.requests.map((r) => [r.method, r.path, r.body, r.header.authorization ?? null]),
    ).toEqual([
      ['GET', '/api/products', undefined, null],
      ['GET', '/api/orders', undefined, 'Bearer tok'],
      ['GET', '/api/orders/A%2FB', undefined, 'Bearer tok'],
      [
        'POST',
        '/api/orders',
        { items: [{ productId: 1, quantity: 2 }], deliveryMethod: 'pickup' },
        'Bearer tok',
      ],
      ['POST', '/api/orders/N1/pay', { channel: 'native' }, 'Bearer tok'],
      ['POST', '/api/orders/N1/cancel', undefined, 'Bearer tok'],
    ])
    expect(taro.requestsTo('/api/orders', 'POST')[0]!.header['idempotency-key']).toBe('key-1')
  })

  it('getOrder without an order number asks nothing', async () => {
    await expect(getOrder('')).rejects.toThrow('缺少订单号')
    expect(taro.requests).toHaveLength(0)
  })
})

// Stand-in for @tarojs/taro in unit tests (aliased in vitest.config.ts). Everything the app calls
// is a vi.fn, scriptable through `taro` below and reset before every test (test/setup.ts).
import { onMounted, onUnmounted } from 'vue'
import { vi } from 'vitest'

// ---- request ---------------------------------------------------------------------------------

/** One Taro.request call as the app made it. `body` is `data` parsed (the app sends JSON text). */
export interface RequestCall {
  url: string
  /** The path after FEN_API_BASE / FEN_SANDBOX_URL, e.g. `/api/orders`. */
  path: string
  method: string
  header: Record<string, string>
  data: unknown
  body: unknown
}

/** A server answer, or NETWORK_ERROR: Taro.request rejects (no answer at all). */
export type RequestAnswer = { statusCode: number; data?: unknown } | typeof NETWORK_ERROR
export type RequestHandler = (call: RequestCall) => RequestAnswer | Promise<RequestAnswer>

export const NETWORK_ERROR = Symbol('network error')

const requests: RequestCall[] = []
const queue: (RequestAnswer | RequestHandler)[] = []
let handler: RequestHandler | undefined

function pathOf(url: string): string {
  const m = /^https?:\/\/[^/]+(\/.*)?$/.exec(url)
  return m ? (m[1] ?? '/') : url
}

async function answerRequest(options: {
  url: string
  method?: string
  header?: Record<string, string>
  data?: unknown
}): Promise<{ statusCode: number; data: unknown; header: Record<string, string>; errMsg: string }> {
  const call: RequestCall = {
    url: options.url,
    path: pathOf(options.url),
    method: options.method ?? 'GET',
    header: { ...options.header },
    data: options.data,
    body: typeof options.data === 'string' ? JSON.parse(options.data) : options.data,
  }
  requests.push(call)
  const next = queue.shift() ?? handler
  const answer: RequestAnswer = next
    ? typeof next === 'function'
      ? await next(call)
      : next
    : {
        statusCode: 500,
        data: { code: 'INTERNAL', message: `taro-mock: no answer for ${call.method} ${call.path}` },
      }
  if (answer === NETWORK_ERROR) throw { errMsg: 'request:fail timeout' }
  return { statusCode: answer.statusCode, data: answer.data, header: {}, errMsg: 'request:ok' }
}

// ---- payment, modal, router, storage ---------------------------------------------------------

/** What the next Taro.requestPayment does: `ok`, or a `fail …` reason (`fail cancel`, …). */
export type PaymentScript = 'ok' | `fail${string}`

let paymentScript: PaymentScript = 'ok'
let modalConfirm = true
/** What wx.chooseAddress answers with (its field names); undefined: the shopper backs out. */
export interface WxAddress {
  userName: string
  telNumber: string
  provinceName: string
  cityName: string
  countyName: string
  detailInfo: string
  postalCode?: string
}
let chosenAddress: WxAddress | undefined
let routerParams: Record<string, string> = {}
let loginCount = 0
let loginCode: string | undefined
const storage = new Map<string, unknown>()

const Taro = {
  request: vi.fn(answerRequest),
  login: vi.fn(async () => {
    loginCount += 1
    return { code: loginCode ?? `code-${loginCount}`, errMsg: 'login:ok' }
  }),
  // Like wx.requestPayment without callbacks: a Promise (pitfall 13).
  requestPayment: vi.fn(
    (_params: {
      timeStamp: string
      nonceStr: string
      package: string
      signType: string
      paySign: string
    }): Promise<{ errMsg: string }> =>
      paymentScript === 'ok'
        ? Promise.resolve({ errMsg: 'requestPayment:ok' })
        : Promise.reject({ errMsg: `requestPayment:${paymentScript}` }),
  ),
  navigateTo: vi.fn(async (_o: { url: string }) => ({ errMsg: 'navigateTo:ok' })),
  redirectTo: vi.fn(async (_o: { url: string }) => ({ errMsg: 'redirectTo:ok' })),
  reLaunch: vi.fn(async (_o: { url: string }) => ({ errMsg: 'reLaunch:ok' })),
  navigateBack: vi.fn(async (_o?: { delta?: number }) => ({ errMsg: 'navigateBack:ok' })),
  switchTab: vi.fn(async (_o: { url: string }) => ({ errMsg: 'switchTab:ok' })),
  setTabBarBadge: vi.fn(async (_o: { index: number; text: string }) => ({
    errMsg: 'setTabBarBadge:ok',
  })),
  removeTabBarBadge: vi.fn(async (_o: { index: number }) => ({ errMsg: 'removeTabBarBadge:ok' })),
  // wx.chooseAddress: the address set by taro.address(), or the shopper backs out.
  chooseAddress: vi.fn(async () => {
    if (!chosenAddress) throw { errMsg: 'chooseAddress:fail cancel' }
    return { ...chosenAddress, errMsg: 'chooseAddress:ok' }
  }),
  openBusinessView: vi.fn(async (_o: { businessType: string; extraData: unknown }) => ({
    errMsg: 'openBusinessView:ok',
  })),
  showToast: vi.fn(async (_o: { title: string; icon?: string }) => ({ errMsg: 'showToast:ok' })),
  showModal: vi.fn(
    async (_o: {
      title?: string
      content?: string
      cancelText?: string
      confirmText?: string
    }) => ({
      confirm: modalConfirm,
      cancel: !modalConfirm,
      errMsg: 'showModal:ok',
    }),
  ),
  getStorageSync: vi.fn((key: string): unknown => (storage.has(key) ? storage.get(key) : '')),
  setStorageSync: vi.fn((key: string, value: unknown) => {
    storage.set(key, value)
  }),
  removeStorageSync: vi.fn((key: string) => {
    storage.delete(key)
  }),
  getCurrentInstance: vi.fn(() => ({
    router: { path: '/pages/test/index', params: routerParams },
  })),
  getEnv: () => 'WEAPP',
  ENV_TYPE: { WEAPP: 'WEAPP', WEB: 'WEB' },
}

// ---- page lifecycle hooks: run with the component ---------------------------------------------

/** Runs on mount with the router params, as Taro's onLoad. */
export function useLoad(cb: (params: Record<string, string>) => unknown): void {
  onMounted(() => void cb(routerParams))
}

/** Runs on mount (the first show). */
export function useDidShow(cb: () => unknown): void {
  onMounted(() => void cb())
}

/** Never in tests: a mounted page stays shown until it unmounts. */
export function useDidHide(_cb: () => unknown): void {}

/** Runs on unmount. */
export function useUnload(cb: () => unknown): void {
  onUnmounted(() => void cb())
}

export default Taro
export const {
  request,
  login,
  requestPayment,
  navigateTo,
  redirectTo,
  reLaunch,
  navigateBack,
  switchTab,
  showModal,
  getStorageSync,
  setStorageSync,
  removeStorageSync,
  getCurrentInstance,
} = Taro

// ---- the test side ---------------------------------------------------------------------------

const fns = [
  Taro.request,
  Taro.login,
  Taro.requestPayment,
  Taro.navigateTo,
  Taro.redirectTo,
  Taro.reLaunch,
  Taro.navigateBack,
  Taro.switchTab,
  Taro.setTabBarBadge,
  Taro.removeTabBarBadge,
  Taro.chooseAddress,
  Taro.openBusinessView,
  Taro.showToast,
  Taro.showModal,
  Taro.getStorageSync,
  Taro.setStorageSync,
  Taro.removeStorageSync,
  Taro.getCurrentInstance,
]

/** Scripts the stand-in and reads what the app did. */
export const taro = {
  Taro,
  /** Every Taro.request so far, in order. */
  requests,
  /** The next answers, in order, one per request (before the handler). */
  answer(...answers: (RequestAnswer | RequestHandler)[]): void {
    queue.push(...answers)
  },
  /** Answers every request the queue does not (e.g. a route table). */
  onRequest(h: RequestHandler): void {
    handler = h
  },
  /** The requests to `path` (exact), optionally of one method. */
  requestsTo(path: string, method?: string): RequestCall[] {
    return requests.filter((r) => r.path === path && (!method || r.method === method))
  },
  /** What Taro.requestPayment does from now on. */
  payment(script: PaymentScript): void {
    paymentScript = script
  },
  /** The button Taro.showModal answers with. */
  confirm(yes: boolean): void {
    modalConfirm = yes
  },
  /** The address wx.chooseAddress returns (undefined: the shopper backs out). */
  address(a: WxAddress | undefined): void {
    chosenAddress = a
  },
  /** The page's query, as getCurrentInstance().router.params. */
  routerParams(params: Record<string, string>): void {
    routerParams = { ...params }
  },
  /** The code Taro.login returns (undefined: `code-1`, `code-2`, …; '' for a login without a code). */
  loginCode(code: string | undefined): void {
    loginCode = code
  },
  storage,
  reset(): void {
    requests.length = 0
    queue.length = 0
    handler = undefined
    paymentScript = 'ok'
    modalConfirm = true
    chosenAddress = undefined
    routerParams = {}
    loginCount = 0
    loginCode = undefined
    storage.clear()
    // mockReset keeps each vi.fn's own implementation (vitest >= 3) and drops *Once overrides.
    for (const f of fns) f.mockReset()
  },
}

import Taro from '@tarojs/taro'
import type { LoginResponse } from '@fen/shared'

const TOKEN_KEY = 'fen.token'

/**
 * The shopper's login: a token kept in storage, obtained silently (`wx.login` → the server's
 * code2Session). Concurrent callers share one login.
 */
export interface Session {
  /** The stored token, logging in first when there is none. */
  token(): Promise<string>
  /** Forgets the token and logs in again (after a 401). */
  relogin(): Promise<string>
  /** Logs in now (the app does it at launch). */
  login(): Promise<string>
}

type LoginFlow = () => Promise<LoginResponse>

let flow: LoginFlow | undefined
let pending: Promise<string> | undefined

/** Wires the login flow (src/api/auth.ts), keeping this module free of imports in a cycle. */
export function useLoginFlow(f: LoginFlow): void {
  flow = f
}

function login(): Promise<string> {
  if (!flow) return Promise.reject(new Error('login flow not wired'))
  pending ??= flow()
    .then((r) => {
      Taro.setStorageSync(TOKEN_KEY, r.token)
      return r.token
    })
    .finally(() => {
      pending = undefined
    })
  return pending
}

export const session: Session = {
  async token() {
    const stored = Taro.getStorageSync(TOKEN_KEY) as string | undefined
    return stored || login()
  },
  relogin() {
    Taro.removeStorageSync(TOKEN_KEY)
    return login()
  },
  login,
}

import type { LoginResponse } from '@fen/shared'
import { request } from '@/http/request'
import { useLoginFlow } from '@/http/session'
import { platform } from '@/platform'

/** `POST /api/auth/login`: a `wx.login` code for a token. */
export function login(code: string): Promise<LoginResponse> {
  return request<LoginResponse>('/api/auth/login', { method: 'POST', body: { code }, auth: false })
}

// The session logs in through the platform's code (wx.login, or the sandbox's) and this call.
useLoginFlow(async () => login(await platform.login()))

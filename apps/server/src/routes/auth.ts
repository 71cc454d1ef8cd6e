import type Router from '@koa/router'
import { schemas } from '@fen/shared'
import type { AuthService } from '../services/auth'
import { apiRouter, parse } from './http'

export function authRoutes(auth: AuthService): Router {
  const r = apiRouter('/api/auth')
  r.post('/login', async (ctx) => {
    const { code } = parse(schemas.LoginRequest, ctx.request.body)
    ctx.body = await auth.login(code, ctx.ip)
  })
  return r
}

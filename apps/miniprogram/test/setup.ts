// Runs before every test file (vitest.config.ts `setupFiles`).
import { afterEach, beforeEach } from 'vitest'
import { enableAutoUnmount } from '@vue/test-utils'
import { cart } from '@/stores/cart'
import { taro } from './taro-mock'
// As src/app.ts does: wire the session's login flow (platform login code → POST /api/auth/login).
import '@/api/auth'

beforeEach(() => {
  taro.reset()
  cart.clear()
  cart.setProducts([])
})

// Pages are unmounted after each test (so useUnload runs and a polling page stops).
enableAutoUnmount(afterEach)

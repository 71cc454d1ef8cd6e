import { createRouter, createWebHistory } from 'vue-router'
import { token, whenUnauthorized } from './api'
import Layout from './views/Layout.vue'
import SignIn from './views/SignIn.vue'

export const router = createRouter({
  history: createWebHistory('/admin/'),
  routes: [
    { path: '/login', name: 'login', component: SignIn, meta: { title: '登录' } },
    {
      path: '/',
      component: Layout,
      children: [
        { path: '', redirect: '/dashboard' },
        {
          path: 'dashboard',
          component: () => import('./views/Dashboard.vue'),
          meta: { title: '首页概览' },
        },
        {
          path: 'orders',
          component: () => import('./views/Orders.vue'),
          meta: { title: '订单管理' },
        },
        {
          path: 'orders/:orderNo',
          component: () => import('./views/OrderDetail.vue'),
          meta: { title: '订单详情' },
        },
        {
          path: 'refunds',
          component: () => import('./views/Refunds.vue'),
          meta: { title: '退款记录' },
        },
        {
          path: 'refund-requests',
          component: () => import('./views/RefundRequests.vue'),
          meta: { title: '售后审核' },
        },
        {
          path: 'reconciliation',
          component: () => import('./views/Reconciliation.vue'),
          meta: { title: '对账中心' },
        },
        {
          path: 'events',
          component: () => import('./views/Events.vue'),
          meta: { title: '事件投递' },
        },
      ],
    },
    { path: '/:rest(.*)*', redirect: '/dashboard' },
  ],
})

router.beforeEach((to) => {
  if (to.name !== 'login' && !token.get()) return { name: 'login', query: { next: to.fullPath } }
  return true
})
router.afterEach((to) => {
  document.title = `${String(to.meta.title ?? '')} · Fen 商户管理后台`
})

// The token stopped working (rotated on the server; the client dropped it): sign in again.
whenUnauthorized(() => {
  void router.push({ name: 'login', query: { expired: '1' } })
})

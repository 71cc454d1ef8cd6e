import { describe, expect, it } from 'vitest'
import { flushPromises, mount } from '@vue/test-utils'
import EmptyState from '@/components/EmptyState.vue'
import RetryBlock from '@/components/RetryBlock.vue'
import Skeleton from '@/components/Skeleton.vue'
import { taro } from './taro-mock'

describe('feedback components', () => {
  it('Skeleton draws the rows asked for, with a picture placeholder when `thumb`', () => {
    const w = mount(Skeleton, { props: { rows: 2, thumb: true } })
    expect(w.findAll('.skeleton-row')).toHaveLength(2)
    expect(w.findAll('.skeleton-thumb')).toHaveLength(2)
    expect(mount(Skeleton).findAll('.skeleton-thumb')).toHaveLength(0)
  })

  it('EmptyState says why and leads back to 首页', async () => {
    const w = mount(EmptyState, { props: { text: '还没有订单' } })
    expect(w.find('.empty-text').text()).toBe('还没有订单')
    await w.find('.empty-action').trigger('tap')
    expect(taro.Taro.reLaunch).toHaveBeenCalledWith({ url: '/pages/index/index' })
  })

  it('RetryBlock shows the message and runs `retry` once per tap while it is busy', async () => {
    let finish = () => {}
    let calls = 0
    const retry = () => {
      calls += 1
      return new Promise<void>((resolve) => (finish = resolve))
    }
    const w = mount(RetryBlock, { props: { message: '网络连接失败', retry } })
    expect(w.find('.retry-message').text()).toBe('网络连接失败')
    await w.find('.retry').trigger('tap')
    expect(w.find('.retry').text()).toBe('重试中…')
    await w.find('.retry').trigger('tap')
    expect(calls).toBe(1)
    finish()
    await flushPromises()
    expect(w.find('.retry').text()).toBe('重试')
  })
})

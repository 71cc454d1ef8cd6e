import { describe, expect, it } from 'vitest'
import { CallLog } from '../src/calls'

describe('CallLog', () => {
  it('keeps the latest `limit` calls once it has grown a tenth past it, oldest first', () => {
    const log = new CallLog(10)
    for (let i = 0; i < 11; i++) log.add({ at: String(i), method: 'GET', path: `/${i}` })
    // Up to limit + a tenth is kept whole.
    expect(log.list()).toHaveLength(11)
    log.add({ at: '11', method: 'GET', path: '/11' })
    const paths = log.list().map((c) => c.path)
    expect(paths).toEqual(['/2', '/3', '/4', '/5', '/6', '/7', '/8', '/9', '/10', '/11'])
  })

  it('lists one order, copies and forgets on clear', () => {
    const log = new CallLog()
    log.add({ at: 'a', method: 'POST', path: '/v3/pay', out_trade_no: 'A' })
    log.add({ at: 'b', method: 'POST', path: '/v3/pay', out_trade_no: 'B' })
    const [only] = log.list('B')
    expect(log.list('B')).toHaveLength(1)
    only!.status = 500
    expect(log.list('B')[0]!.status).toBeUndefined()
    log.clear()
    expect(log.list()).toEqual([])
  })
})

/** Bill CSV parsing (backtick cells, summary rows, yuan → fen) and the typed digest error. */
import { describe, expect, it } from 'vitest'
import {
  BillDigestError,
  WechatPayError,
  parseFundFlowBill,
  parseTradeBill,
  yuanToFen,
} from '../src'

const TRADE =
  '\uFEFF交易时间,公众账号ID,商户号,特约商户号,设备号,微信订单号,商户订单号,用户标识,交易类型,交易状态,付款银行,货币种类,' +
  '应结订单金额,代金券金额,微信退款单号,商户退款单号,退款金额,充值券退款金额,退款类型,退款状态,商品名称,商户数据包,' +
  '手续费,费率,订单金额,申请退款金额,费率备注\r\n' +
  '`2026-12-02 10:01:02,`wxd678efh567hg6787,`1230000109,`0,`,`4200000001202612020000000001,`F20261202A,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`SUCCESS,`OTHERS,`CNY,`12.34,`0.00,`0,`0,`0.00,`0.00,`,`,`咖啡,`,`0.07404,`0.60%,`12.34,`0.00,`\r\n' +
  '`2026-12-02 11:00:00,`wxd678efh567hg6787,`1230000109,`0,`,`4200000001202612020000000001,`F20261202A,`oUpF8uMuAJO_M2pxb1Q9zNjWeS6o,`JSAPI,`REFUND,`OTHERS,`CNY,`0.00,`0.00,`50300000012026120200000001,`R20261202A,`2.00,`0.00,`ORIGINAL,`SUCCESS,`咖啡,`,`-0.01200,`0.60%,`12.34,`2.00,`\r\n' +
  '总交易单数,应结订单总金额,退款总金额,充值券退款总金额,手续费总金额,订单总金额,申请退款总金额\r\n' +
  '`2,`12.34,`2.00,`0.00,`0.06204,`12.34,`2.00\r\n'

const FUND =
  '\uFEFF记账时间,微信支付业务单号,资金流水单号,业务名称,业务类型,收支类型,收支金额（元）,账户结余（元）,资金变更提交申请人,备注,业务凭证号\r\n' +
  '`2026-12-02 10:01:02,`4200000001202612020000000001,`4200000001202612020000000001,`交易,`交易,`收入,`12.34,`12.34,`system,`缺省,`F20261202A\r\n' +
  '`2026-12-02 11:00:00,`50300000012026120200000001,`50300000012026120200000001,`退款,`退款,`支出,`2.00,`10.34,`system,`缺省,`R20261202A\r\n' +
  '资金流水总笔数,收入笔数,收入金额,支出笔数,支出金额\r\n' +
  '`2,`1,`12.34,`1,`2.00\r\n'

describe('bill CSV', () => {
  it('parses a trade bill with a payment and a refund row', () => {
    const { rows, summary } = parseTradeBill(TRADE)
    expect(rows).toHaveLength(2)
    expect(rows[0]).toMatchObject({
      outTradeNo: 'F20261202A',
      transactionId: '4200000001202612020000000001',
      tradeState: 'SUCCESS',
      settlementFen: 1234,
      totalFen: 1234,
    })
    expect(rows[1]).toMatchObject({
      tradeState: 'REFUND',
      outRefundNo: 'R20261202A',
      refundFen: 200,
      refundStatus: 'SUCCESS',
    })
    expect(summary['总交易单数']).toBe('2')
    expect(summary['退款总金额']).toBe('2.00')
  })

  it('parses a fund-flow bill, full-width headers included', () => {
    const { rows, summary } = parseFundFlowBill(FUND)
    expect(rows.map((r) => [r.direction, r.amountFen, r.balanceFen])).toEqual([
      ['收入', 1234, 1234],
      ['支出', 200, 1034],
    ])
    expect(summary['资金流水总笔数']).toBe('2')
  })

  it('splits on the backtick that starts each field: commas inside 商品名称 and 商户数据包 stay', () => {
    const odd = TRADE.replace('`咖啡,`,', '`手冲咖啡豆,250g,`a=1,b=2,').replace(
      // The last field of the refund row, with a trailing separator after it.
      '`2.00,`\r\n总交易单数',
      '`2.00,`,\r\n总交易单数',
    )
    const { rows, unparsed, summary } = parseTradeBill(odd)
    expect(unparsed).toEqual([])
    expect(
      rows.map((r) => [r.raw['商品名称'], r.raw['商户数据包'], r.totalFen, r.raw['费率']]),
    ).toEqual([
      ['手冲咖啡豆,250g', 'a=1,b=2', 1234, '0.60%'],
      ['咖啡', '', 1234, '0.60%'],
    ])
    expect(rows[1]!.raw['费率备注']).toBe('')
    expect(summary['总交易单数']).toBe('2')
  })

  it('keeps each row it cannot read, with its line, and reads the rest', () => {
    const lines = TRADE.split('\r\n')
    const good = lines[1]!
    const bad = [
      'garbage,,,',
      '`2026-12-02 10:01:02,`only two',
      good.replace('`0.60%,`12.34', '`0.60%,`12.3.4'),
      good.replace('`0.60%,`12.34', '`0.60%,`99999999999999999999.99'),
      good.replace('`4200000001202612020000000001', '`'),
    ]
    const csv = [lines[0], bad[0], good, bad[1], bad[2], bad[3], bad[4], ...lines.slice(2)].join(
      '\r\n',
    )
    const { rows, unparsed, summary } = parseTradeBill(csv)
    expect(rows.map((r) => r.tradeState)).toEqual(['SUCCESS', 'REFUND'])
    expect(unparsed).toEqual([
      { line: 2, raw: bad[0], reason: 'no_backtick', message: expect.any(String) },
      { line: 4, raw: bad[1], reason: 'field_count', message: '2 fields, the header has 27' },
      { line: 5, raw: bad[2], reason: 'bad_amount', message: expect.stringContaining('12.3.4') },
      { line: 6, raw: bad[3], reason: 'bad_amount', message: expect.stringContaining('9999') },
      {
        line: 7,
        raw: bad[4],
        reason: 'missing_id',
        message: expect.stringContaining('微信订单号'),
      },
    ])
    expect(summary['总交易单数']).toBe('2')
  })

  it('a bill without its summary is all rows', () => {
    const lines = TRADE.split('\r\n')
    const { rows, unparsed, summary } = parseTradeBill(lines.slice(0, 3).join('\r\n'))
    expect([rows.length, unparsed, summary]).toEqual([2, [], {}])
  })

  it('an empty bill has no rows', () => {
    expect(parseTradeBill('').rows).toEqual([])
  })

  it('converts yuan to fen without floats', () => {
    expect(yuanToFen('0.01')).toBe(1)
    expect(yuanToFen('12.34')).toBe(1234)
    expect(yuanToFen('-0.01200')).toBe(-1)
    expect(yuanToFen('0.07404')).toBe(7)
    expect(yuanToFen('3')).toBe(300)
    expect(() => yuanToFen('1e3')).toThrow(WechatPayError)
    expect(yuanToFen('21474836.48')).toBe(2_147_483_648)
    // Beyond 2^53 fen a number no longer holds every integer: refused, not rounded.
    expect(yuanToFen('90071992547409.91')).toBe(Number.MAX_SAFE_INTEGER)
    expect(() => yuanToFen('90071992547409.92')).toThrow(WechatPayError)
  })

  it('BillDigestError is a typed WechatPayError', () => {
    const e = new BillDigestError('aa', 'bb')
    expect(e).toBeInstanceOf(WechatPayError)
    expect([e.expected, e.actual]).toEqual(['aa', 'bb'])
  })
})

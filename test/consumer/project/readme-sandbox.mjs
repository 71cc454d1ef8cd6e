import { startSandbox } from '@fen/sandbox'

const sb = await startSandbox({ port: 0 }) // fresh test keys, a free port
const m = sb.merchant // mchid, appid, apiV3Key, the merchant key and certificate, platform keys
console.log(`WeChat Pay at ${sb.url} for merchant ${m.mchid}`) // your client's baseUrl
// Play WeChat's side through the control API, e.g. a wx.login code for an openid:
const res = await fetch(`${sb.url}/__sandbox/login-codes`, {
  method: 'POST',
  headers: { 'content-type': 'application/json' },
  body: JSON.stringify({ openid: 'o-test-user' }),
})
console.log(await res.json()) // { code, openid }; POST /__sandbox/pay { out_trade_no } pays
await sb.close()

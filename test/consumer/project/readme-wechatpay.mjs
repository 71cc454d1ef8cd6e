import { WechatPay } from '@fen/wechatpay'

// Offline against `npx fen-sandbox`; with your merchant's keys, leave out baseUrl.
const sandbox = process.env.SANDBOX_URL ?? 'http://127.0.0.1:3100'
const m = await (await fetch(`${sandbox}/__sandbox/merchant`)).json() // its test merchant
const wxpay = new WechatPay({
  baseUrl: sandbox,
  mchid: m.mchid,
  appid: m.appid,
  serialNo: m.merchantSerialNo, // your merchant API certificate's serial
  privateKey: m.merchantPrivateKey, // apiclient_key.pem
  apiV3Key: m.apiV3Key,
  platform: { publicKey: { id: m.platformPublicKeyId, key: m.platformPublicKey } },
})
const { code_url } = await wxpay.transactions.native({
  description: 'Fen 测试商品',
  out_trade_no: `FEN${Date.now()}`,
  notify_url: 'https://shop.example.com/api/pay/notify',
  amount: { total: 1 }, // fen
})
console.log(code_url) // weixin://wxpay/bizpayurl?pr=…

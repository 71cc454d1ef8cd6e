// Evaluated at build time: the sandbox's cashier page exists in sandbox builds only.
const sandbox = process.env.FEN_SANDBOX === '1'

export default defineAppConfig({
  pages: [
    'pages/index/index',
    'pages/checkout/index',
    'pages/result/index',
    'pages/mine/index',
    'pages/orders/index',
    'pages/order/index',
    ...(sandbox ? ['pages/sandbox-cashier/index'] : []),
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#07c160',
    navigationBarTitleText: 'Fen 小店',
    navigationBarTextStyle: 'white',
    backgroundColor: '#f6f7f9',
  },
})

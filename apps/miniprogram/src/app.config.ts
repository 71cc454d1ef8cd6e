// Evaluated at build time: the sandbox's cashier page exists in sandbox builds only.
const sandbox = process.env.FEN_SANDBOX === '1'

export default defineAppConfig({
  pages: [
    'pages/index/index',
    'pages/cart/index',
    'pages/mine/index',
    'pages/product/index',
    'pages/checkout/index',
    'pages/result/index',
    'pages/orders/index',
    'pages/order/index',
    ...(sandbox ? ['pages/sandbox-cashier/index'] : []),
  ],
  window: {
    backgroundTextStyle: 'light',
    navigationBarBackgroundColor: '#ffffff',
    navigationBarTitleText: 'Fen 咖啡',
    navigationBarTextStyle: 'black',
    backgroundColor: '#f6f7f9',
  },
  // The 购物车 badge (cart units) is set at run time: src/stores/cart.ts. Icons must be PNG
  // (weapp takes no SVG here): scripts/tab-icons.mjs draws them.
  tabBar: {
    color: '#8c959f',
    selectedColor: '#8b5a2b',
    backgroundColor: '#ffffff',
    borderStyle: 'white',
    list: [
      {
        pagePath: 'pages/index/index',
        text: '首页',
        iconPath: 'assets/tab/home.png',
        selectedIconPath: 'assets/tab/home-active.png',
      },
      {
        pagePath: 'pages/cart/index',
        text: '购物车',
        iconPath: 'assets/tab/cart.png',
        selectedIconPath: 'assets/tab/cart-active.png',
      },
      {
        pagePath: 'pages/mine/index',
        text: '我的',
        iconPath: 'assets/tab/mine.png',
        selectedIconPath: 'assets/tab/mine-active.png',
      },
    ],
  },
})

import type { ProductSpec } from '@fen/shared'

/**
 * The demo shop: a small coffee shop's menu, seeded at start (fixed ids, so every instance seeds
 * the same rows once). Ids 1–5 keep the prices and stock the tests are written against (5 is the
 * 1-fen item with 10,000 in stock that the reliability suites order thousands of times); 12 is
 * virtual, so its orders ship themselves. The pictures are the SVGs in apps/server/static/products.
 */

const image = (file: string) => `/static/products/${file}`

const TEMPERATURE: ProductSpec = { name: '温度', options: ['热', '冰'] }
const ICED_FIRST: ProductSpec = { name: '温度', options: ['冰', '热'] }
const SIZE: ProductSpec = { name: '杯型', options: ['中杯', '大杯'] }
const SUGAR: ProductSpec = { name: '糖度', options: ['标准糖', '少糖', '不另外加糖'] }
const WARMED: ProductSpec = { name: '加热', options: ['加热', '不加热'] }

export const DEMO_CATEGORIES = [
  { id: 'coffee', name: '咖啡', position: 1 },
  { id: 'tea', name: '茶饮', position: 2 },
  { id: 'food', name: '轻食', position: 3 },
  { id: 'goods', name: '周边', position: 4 },
]

interface DemoProduct {
  id: number
  title: string
  priceFen: number
  stock: number
  category: string
  description: string
  images: string[]
  specs?: ProductSpec[]
  isVirtual?: boolean
}

const products: DemoProduct[] = [
  {
    id: 1,
    title: '云南小粒咖啡豆 250g',
    priceFen: 5900,
    stock: 100,
    category: 'goods',
    description:
      '保山产区铁皮卡，中度烘焙。坚果与红糖的甜感，尾段带一点柑橘酸。烘焙后 7 天内发出。',
    images: ['beans.svg'],
    specs: [{ name: '研磨', options: ['整豆', '手冲研磨', '意式研磨'] }],
  },
  {
    id: 2,
    title: '手冲滤杯 V60',
    priceFen: 8900,
    stock: 50,
    category: 'goods',
    description: '02 号树脂滤杯，适合 1–4 杯。螺旋导流筋让水流均匀，新手也容易冲出干净的一杯。',
    images: ['dripper.svg'],
  },
  {
    id: 3,
    title: '陶瓷马克杯',
    priceFen: 3900,
    stock: 200,
    category: 'goods',
    description: '350ml 哑光釉面马克杯，杯壁厚实保温。可用洗碗机和微波炉。',
    images: ['mug.svg'],
    specs: [{ name: '颜色', options: ['米白', '墨绿'] }],
  },
  {
    id: 4,
    title: '挂耳咖啡 10 包',
    priceFen: 2990,
    stock: 300,
    category: 'coffee',
    description:
      '每包 10g，撕开挂在杯口，注入 200ml 热水即可。两种拼配各 5 包，办公室和出差都方便。',
    images: ['drip-bags.svg'],
  },
  {
    id: 5,
    title: '环保纸袋',
    priceFen: 1,
    stock: 10000,
    category: 'goods',
    description: '加厚牛皮纸手提袋，可装 4 杯饮品。一分钱加购，可反复使用。',
    images: ['paper-bag.svg'],
  },
  {
    id: 6,
    title: '经典拿铁',
    priceFen: 2800,
    stock: 500,
    category: 'coffee',
    description: '双份意式浓缩配丝滑蒸汽牛奶，奶泡细腻，入口是温和的坚果和焦糖香。',
    images: ['latte.svg', 'latte-art.svg'],
    specs: [TEMPERATURE, SIZE],
  },
  {
    id: 7,
    title: '美式咖啡',
    priceFen: 2200,
    stock: 500,
    category: 'coffee',
    description: '意式浓缩加水，清爽不苦涩。默认冰饮，也可以做热的。',
    images: ['americano.svg'],
    specs: [ICED_FIRST, SIZE],
  },
  {
    id: 8,
    title: '桂花乌龙',
    priceFen: 2400,
    stock: 300,
    category: 'tea',
    description: '秋季限定。炭焙乌龙冷萃，加入自制桂花蜜，茶香与花香一口都有。',
    images: ['osmanthus-oolong.svg'],
    specs: [ICED_FIRST, SUGAR],
  },
  {
    id: 9,
    title: '抹茶拿铁',
    priceFen: 2600,
    stock: 300,
    category: 'tea',
    description: '宇治抹茶现点，配鲜牛奶，微苦回甘。',
    images: ['matcha-latte.svg'],
    specs: [TEMPERATURE, SUGAR],
  },
  {
    id: 10,
    title: '黄油可颂',
    priceFen: 1600,
    stock: 120,
    category: 'food',
    description: '法国发酵黄油，每天早上现烤。外壳酥脆，内里层层分明。',
    images: ['croissant.svg'],
    specs: [WARMED],
  },
  {
    id: 11,
    title: '火腿芝士三明治',
    priceFen: 2800,
    stock: 80,
    category: 'food',
    description: '全麦吐司夹烟熏火腿、切达芝士和番茄，压烤后趁热吃最好。',
    images: ['sandwich.svg'],
    specs: [WARMED],
  },
  {
    id: 12,
    title: '电子礼品卡 ¥100',
    priceFen: 10000,
    stock: 1000,
    category: 'goods',
    description: '付款后自动发放到你的账户，可转赠好友，全部门店通用，有效期 3 年。',
    images: ['gift-card.svg'],
    specs: [{ name: '卡面', options: ['生日快乐', '谢谢你', '新年快乐'] }],
    isVirtual: true,
  },
]

export const DEMO_PRODUCTS = products.map((p) => ({
  ...p,
  imageUrl: image(p.images[0]!),
  images: p.images.map(image),
  specs: p.specs ?? null,
  isVirtual: p.isVirtual ?? false,
}))

/**
 * The titles the demo seed gave ids 1–5 before the catalogue had pictures: a row still showing
 * one of these (and no category) is brought up to date by the seed; any other row is left alone.
 */
export const EARLIER_DEMO_TITLES = [
  '云南小粒咖啡豆 250g',
  '手冲滤杯 V60',
  '陶瓷马克杯',
  '挂耳咖啡 10 包',
  '一分钱测试商品',
]

export const DEMO_BANNERS = [
  {
    id: 'osmanthus',
    title: '秋日限定 · 桂花乌龙',
    imageUrl: image('banner-osmanthus.svg'),
    productId: 8,
    position: 1,
  },
  {
    id: 'gift-card',
    title: '电子礼品卡 · 把咖啡送给朋友',
    imageUrl: image('banner-gift-card.svg'),
    productId: 12,
    position: 2,
  },
]

export default definePageConfig({ navigationBarTitleText: 'Fen 咖啡' })

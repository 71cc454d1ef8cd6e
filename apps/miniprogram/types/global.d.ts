/// <reference types="@tarojs/taro" />

declare module '*.png'
declare module '*.css'

/** Build-time constants (config/index.ts `defineConstants`). */
declare const FEN_SANDBOX: boolean
declare const FEN_API_BASE: string
declare const FEN_SANDBOX_URL: string

declare namespace NodeJS {
  interface ProcessEnv {
    NODE_ENV: 'development' | 'production'
    TARO_ENV: 'weapp' | 'swan' | 'alipay' | 'h5' | 'rn' | 'tt' | 'qq' | 'jd' | 'harmony' | 'jdrn'
    TARO_APP_ID: string
  }
}

declare module '@tarojs/components' {
  export * from '@tarojs/components/types/index.vue3'
}

export {}

declare module 'vue' {
  export interface GlobalComponents extends JSX.IntrinsicElements {}
}

export {}

declare module 'vue' {
  // Taro's built-in components (<view>, <text>, …) as Vue global components for vue-tsc.
  // eslint-disable-next-line @typescript-eslint/no-empty-object-type -- an interface merge, on purpose
  export interface GlobalComponents extends JSX.IntrinsicElements {}
}

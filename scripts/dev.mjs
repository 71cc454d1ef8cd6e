// `pnpm dev`: the one command that starts Fen for local work.
// What exists so far is the WeChat Pay SDK (packages/wechatpay). As the sandbox (#3), the server (#4)
// and the mini-program (#5) land, this script starts them and prints their URLs.
console.log(`Fen — WeChat Pay in a mini-program, testable offline.

Installed. Nothing to start yet: so far Fen is the WeChat Pay SDK (packages/wechatpay).
  pnpm test         runs every test (SDK vectors, interop with wechatpay-axios-plugin, …)
  pnpm bench:sdk    prints the SDK's signing and verification figures

Coming next, started by this command:
  - the Fen sandbox (an offline WeChat Pay)   http://127.0.0.1:3100/__sandbox/
  - the Fen server (Koa, PGlite by default)   http://127.0.0.1:3000
  - the mini-program's H5 build              http://127.0.0.1:10086
`)

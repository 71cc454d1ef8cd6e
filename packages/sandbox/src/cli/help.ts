/** `fen-sandbox --help`, in English and 中文 (`--lang zh`, or a `zh` locale). */

export type Lang = 'en' | 'zh'

/** `--lang`, else the locale (`FEN_LANG`, `LC_ALL`, `LC_MESSAGES`, `LANG`): 中文 for `zh…`. */
export function pickLang(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): Lang {
  const value = flag ?? env.FEN_LANG ?? env.LC_ALL ?? env.LC_MESSAGES ?? env.LANG ?? ''
  return value.toLowerCase().startsWith('zh') ? 'zh' : 'en'
}

const COMMON = {
  en: `Options for every command:
  --url <url>     the running sandbox (default http://127.0.0.1:3100, or SANDBOX_URL)
  --json          one JSON object per line, for scripts (errors too, on stderr)
  --lang en|zh    the language of --help
  -h, --help      this help`,
  zh: `所有命令通用的选项：
  --url <url>     正在运行的沙箱地址（默认 http://127.0.0.1:3100，或 SANDBOX_URL）
  --json          每行一个 JSON 对象，便于脚本解析（错误也是，输出到 stderr）
  --lang en|zh    --help 的语言
  -h, --help      显示帮助`,
}

const TOP = {
  en: `fen-sandbox — an offline WeChat Pay for tests and local work (test keys only)

Usage: fen-sandbox [command] [options]

Commands:
  start                 start a sandbox (the default command)
  listen                forward every notification to your local server and print the answers
  trigger <event>       payment.success | payment.failed (--out-trade-no),
                        refund.success | refund.abnormal | refund.closed (--out-refund-no)
  logs                  tail the call log: method, path, status, ms, request and answer bodies
  clock [advance <d>]   show sandbox time, or move it forward (90s, 15m, 2h, 1d, 1h30m)
  faults [list|add|clear]
                        show, arm or clear faults (5xx, 429, timeouts, lost notifications …)
  confirm-receipt <out_trade_no>
                        the shopper confirms receipt of a shipped mini-program order
  reset                 forget all orders, refunds, notifications, faults and the call log

Run \`fen-sandbox <command> --help\` for a command's options.
Exit codes: 0 done, 1 failed (the sandbox refused, or cannot be reached), 2 bad usage.

${COMMON.en}`,
  zh: `fen-sandbox —— 离线的微信支付，用于测试和本地开发（仅限测试密钥）

用法：fen-sandbox [命令] [选项]

命令：
  start                 启动沙箱（默认命令）
  listen                把每条支付通知转发到本地服务器，并打印其应答
  trigger <事件>        payment.success | payment.failed（--out-trade-no），
                        refund.success | refund.abnormal | refund.closed（--out-refund-no）
  logs                  实时查看调用日志：方法、路径、状态码、耗时、请求与应答正文
  clock [advance <时长>]
                        查看沙箱时间，或将其拨快（90s、15m、2h、1d、1h30m）
  faults [list|add|clear]
                        查看、注入或清除故障（5xx、429、超时、通知丢失……）
  confirm-receipt <商户订单号>
                        用户确认收货（已发货的小程序订单）
  reset                 清空所有订单、退款、通知、故障和调用日志

运行 \`fen-sandbox <命令> --help\` 查看该命令的选项。
退出码：0 成功，1 失败（沙箱拒绝或无法连接），2 用法错误。

${COMMON.zh}`,
}

const COMMANDS: Record<string, Record<Lang, string>> = {
  start: {
    en: `Usage: fen-sandbox [start] [options]

Starts a sandbox in this process; Ctrl-C stops it. Each flag defaults to its env variable.
  --host <host>                   SANDBOX_HOST, default 127.0.0.1
  --port <port>                   SANDBOX_PORT, default 3100 (0: a free port)
  --backup-port <port>            SANDBOX_BACKUP_PORT: also play WeChat's backup host
                                  (api2.mch.weixin.qq.com) on this port (0: a free port); none by default
  --keys <file>                   SANDBOX_KEYS, default .sandbox/keys.json in the workspace root
                                  (the nearest folder up with pnpm-workspace.yaml), else in the
                                  current folder; generated on the first start
  --time-scale <n>                SANDBOX_TIME_SCALE, default 1 (600: the 24 h retry schedule in 144 s)
  --mode <mode>                   SANDBOX_MODE: publicKey | certificate | both (default: the keys file's)
  --refund-settle-seconds <s>     SANDBOX_REFUND_SETTLE_SECONDS, default 5; 0: refunds settle only
                                  by hand (fen-sandbox trigger refund.success …)
  --payment-grace-seconds <s>     SANDBOX_PAYMENT_GRACE_SECONDS, default 60: how late after
                                  time_expire a payment may still complete (as at WeChat)
  --open-platform                 SANDBOX_OPEN_PLATFORM=1: the app is bound to an Open Platform
                                  account, so code2Session answers a unionid
  --auto-confirm-days <d>         SANDBOX_AUTO_CONFIRM_DAYS: days from shipping to automatic receipt
                                  confirmation (default 10 for express, 2 for the other types)
  --push-url <url>                SANDBOX_PUSH_URL: where 消息推送 goes (your /api/wechat/push)
  --push-token <token>            SANDBOX_PUSH_TOKEN: the push Token (signatures)
  --push-aes-key <key>            SANDBOX_PUSH_AES_KEY: the 43-character EncodingAESKey (安全模式);
                                  without it pushes are plaintext (明文模式)
  --push-format json|xml          SANDBOX_PUSH_FORMAT, default json
  --allowed-hosts <a,b>           SANDBOX_ALLOWED_HOSTS: host names /__sandbox/ answers to besides
                                  localhost, 127.0.0.1, [::1] and --host (e.g. the LAN address a
                                  phone uses); other Host headers get 421 (DNS rebinding)
  --allowed-origins <a,b>         SANDBOX_ALLOWED_ORIGINS: origins whose pages may call /__sandbox/
                                  besides its own (CORS), e.g. http://127.0.0.1:10086 (the shop's
                                  H5 build); other origins get 403
  --quiet                         SANDBOX_QUIET: no log lines
With --json: a "ready" line with the URL and merchant, then log lines as {"event":"log"}.`,
    zh: `用法：fen-sandbox [start] [选项]

在当前进程中启动沙箱，Ctrl-C 停止。每个选项的默认值取自对应的环境变量。
  --host <主机>                   SANDBOX_HOST，默认 127.0.0.1
  --port <端口>                   SANDBOX_PORT，默认 3100（0：任选空闲端口）
  --backup-port <端口>            SANDBOX_BACKUP_PORT：同时在此端口扮演微信支付备用域名
                                  （api2.mch.weixin.qq.com）（0：任选空闲端口）；默认不启用
  --keys <文件>                   SANDBOX_KEYS，默认为工作区根目录（向上最近的含 pnpm-workspace.yaml
                                  的目录）下的 .sandbox/keys.json，否则为当前目录下的；首次启动时生成
  --time-scale <倍数>             SANDBOX_TIME_SCALE，默认 1（600：24 小时重试计划 144 秒跑完）
  --mode <模式>                   SANDBOX_MODE：publicKey | certificate | both（默认取密钥文件中的）
  --refund-settle-seconds <秒>    SANDBOX_REFUND_SETTLE_SECONDS，默认 5；0：退款只能手动结算
                                  （fen-sandbox trigger refund.success …）
  --payment-grace-seconds <秒>    SANDBOX_PAYMENT_GRACE_SECONDS，默认 60：超过 time_expire 多久内
                                  支付仍可能完成（与微信一致）
  --open-platform                 SANDBOX_OPEN_PLATFORM=1：小程序已绑定开放平台账号，
                                  code2Session 会返回 unionid
  --auto-confirm-days <天>        SANDBOX_AUTO_CONFIRM_DAYS：发货后多少天自动确认收货
                                  （默认快递 10 天，其他物流类型 2 天）
  --push-url <url>                SANDBOX_PUSH_URL：消息推送地址（如 /api/wechat/push）
  --push-token <token>            SANDBOX_PUSH_TOKEN：消息推送 Token（用于签名）
  --push-aes-key <key>            SANDBOX_PUSH_AES_KEY：43 位 EncodingAESKey（安全模式）；
                                  不设置则为明文模式
  --push-format json|xml          SANDBOX_PUSH_FORMAT，默认 json
  --allowed-hosts <a,b>           SANDBOX_ALLOWED_HOSTS：除 localhost、127.0.0.1、[::1] 和 --host
                                  之外，/__sandbox/ 还应答的主机名（如手机访问所用的局域网地址）；
                                  其他 Host 一律 421（防 DNS 重绑定）
  --allowed-origins <a,b>         SANDBOX_ALLOWED_ORIGINS：除沙箱自身外，允许调用 /__sandbox/ 的
                                  网页来源（CORS），如 http://127.0.0.1:10086（商城 H5）；
                                  其他来源一律 403
  --quiet                         SANDBOX_QUIET：不打印日志
使用 --json 时：先输出一行 "ready"（地址与商户信息），之后日志为 {"event":"log"}。`,
  },
  listen: {
    en: `Usage: fen-sandbox listen [--forward-to <url>]

Prints every notification attempt and the answer it got, like \`stripe listen\`.
  --forward-to <url>   also send every notification to <url>, whatever notify_url the order
                       named; an attempt is delivered when either answers 200/204, so your local
                       server's answer drives the retry schedule. Ctrl-C stops and unregisters.
Without --forward-to it prints the attempts to each order's notify_url.`,
    zh: `用法：fen-sandbox listen [--forward-to <url>]

打印每一次通知投递及其应答，类似 \`stripe listen\`。
  --forward-to <url>   无论订单的 notify_url 是什么，每条通知也发送到 <url>；任一方应答
                       200/204 即视为投递成功，因此由本地服务器的应答决定重试计划。
                       Ctrl-C 停止并注销转发。
不带 --forward-to 时，打印发往各订单 notify_url 的投递。`,
  },
  trigger: {
    en: `Usage: fen-sandbox trigger <event> (--out-trade-no <no> | --out-refund-no <no>)

  payment.success   the user pays the order (its notification follows)   --out-trade-no
  payment.failed    the payment fails (PAYERROR; no notification, the order stays payable)
  refund.success | refund.abnormal | refund.closed
                    settles a refund to that status (its notification follows)   --out-refund-no
  --openid <id>     payment.success: the payer's openid`,
    zh: `用法：fen-sandbox trigger <事件> (--out-trade-no <单号> | --out-refund-no <单号>)

  payment.success   用户支付该订单（随后发送支付通知）   --out-trade-no
  payment.failed    支付失败（PAYERROR；不发通知，订单仍可支付）
  refund.success | refund.abnormal | refund.closed
                    把退款结算为该状态（随后发送退款通知）   --out-refund-no
  --openid <id>     payment.success：付款用户的 openid`,
  },
  logs: {
    en: `Usage: fen-sandbox logs [--out-trade-no <no>] [--limit <n>] [--no-follow]

Prints the latest calls to WeChat's side (APIv3, APIv2, login) with their request and answer
bodies, then follows new ones until Ctrl-C.
  --out-trade-no <no>   only the calls about that order
  --limit <n>           how many past calls to print first (default 20; 0: none)
  --no-follow           print the past calls and exit`,
    zh: `用法：fen-sandbox logs [--out-trade-no <单号>] [--limit <n>] [--no-follow]

先打印最近对微信侧（APIv3、APIv2、登录）的调用及其请求与应答正文，然后持续显示新的调用，直到 Ctrl-C。
  --out-trade-no <单号>   只看与该订单有关的调用
  --limit <n>             先打印多少条历史调用（默认 20；0：不打印）
  --no-follow             打印历史调用后退出`,
  },
  clock: {
    en: `Usage: fen-sandbox clock [show | advance <duration>]

Sandbox time drives order expiry, prepay life, login codes, notification retries and bills.
  advance <duration>   moves it forward: 90s, 15m, 2h, 1d, 1h30m (a bare number is seconds)`,
    zh: `用法：fen-sandbox clock [show | advance <时长>]

沙箱时间决定订单过期、预支付有效期、登录 code、通知重试和账单。
  advance <时长>   把时间拨快：90s、15m、2h、1d、1h30m（纯数字为秒）`,
  },
  faults: {
    en: `Usage: fen-sandbox faults [list | add <kind> [target] [options] | clear]

  add <kind> [target]   arms a fault. Path kinds: error500 error429 timeout reset probe
                        unreachable (the primary host only: no HTTP answer, so a client with a
                        backup host goes there), corrupt (target /v3/billdownload only: the
                        bill file no longer matches its SHA1); target a path prefix, default "/".
                        Notification kinds: drop duplicate
                        delay reorder probe; target "notifications" (the default for them).
                        probe needs a target.
    --target <t>        the target, instead of the positional one
    --count <n>         the next n matching calls (default 1)
    --rate <r>          instead, each matching call with probability r (0 < r ≤ 1), until cleared
    --seed <n>          the dice of a rate fault (replays the same hits)
    --seconds <s>       delay: how long (sandbox seconds, default 60)
    --errcode <n>       errcode (mini-program APIs under /wxa/ or /cgi-bin/): the errcode to
                        answer, default 10060001
  clear                 clears every fault`,
    zh: `用法：fen-sandbox faults [list | add <类型> [目标] [选项] | clear]

  add <类型> [目标]     注入故障。接口类：error500 error429 timeout reset probe unreachable
                        （unreachable 只作用于主域名：无 HTTP 应答，配置了备用域名的客户端
                        会改发备用域名）、corrupt（目标只能是 /v3/billdownload：账单文件与
                        其 SHA1 摘要不符），目标为路径前缀，
                        默认 "/"。通知类：drop duplicate delay reorder probe，目标为
                        "notifications"（通知类的默认值）。probe 必须指定目标。
    --target <目标>     以选项代替位置参数指定目标
    --count <n>         命中接下来 n 次匹配的调用（默认 1）
    --rate <r>          改为按概率 r（0 < r ≤ 1）命中每次匹配的调用，直到清除
    --seed <n>          概率故障的随机种子（可复现同样的命中）
    --seconds <秒>      delay：延迟多久（沙箱秒，默认 60）
    --errcode <n>       errcode（/wxa/、/cgi-bin/ 下的小程序接口）：返回的 errcode，默认 10060001
  clear                 清除所有故障`,
  },
  'confirm-receipt': {
    en: `Usage: fen-sandbox confirm-receipt <out_trade_no> [--openid <id>]

The shopper confirms receipt of a shipped mini-program order, as wx.openBusinessView
(businessType weappOrderConfirm) does; the order then settles (trade_manage_order_settlement).
  --openid <id>   who confirms: another openid than the payer's fails, as at WeChat
Exits 1 when the order is not awaiting receipt (cancel) or the openid is not the payer's (fail).`,
    zh: `用法：fen-sandbox confirm-receipt <商户订单号> [--openid <id>]

用户确认收货（即 wx.openBusinessView 的 weappOrderConfirm），随后订单结算并推送
trade_manage_order_settlement。
  --openid <id>   确认收货的用户；不是付款用户时失败（与微信一致）
订单不在待确认收货状态（cancel）或 openid 不是付款用户（fail）时退出码为 1。`,
  },
  reset: {
    en: `Usage: fen-sandbox reset

Forgets all orders, refunds, login codes, notifications, faults and the call log. Keys, key mode,
the clock and open \`listen\` forwards stay.`,
    zh: `用法：fen-sandbox reset

清空所有订单、退款、登录 code、通知、故障和调用日志。密钥、密钥模式、时钟以及正在运行的
\`listen\` 转发保持不变。`,
  },
}

/** The help of `command` (or the overview), in `lang`. */
export function helpText(command: string | undefined, lang: Lang): string {
  const text = command === undefined ? undefined : COMMANDS[command]?.[lang]
  return text === undefined ? TOP[lang] : `${text}\n\n${COMMON[lang]}`
}

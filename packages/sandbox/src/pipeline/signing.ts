import type { PlatformSigner } from '../keys'
import type { CallMiddleware } from './context'

/** What signing an answer uses of the sandbox. */
export interface AnswerSigner {
  /** Who signs the answer to a request that named `requestSerial` (`Wechatpay-Serial`). */
  responseSigner(requestSerial: string | undefined): PlatformSigner
  /** The `Wechatpay-*` headers for `body`; a `probe` signature is prefixed `WECHATPAY/SIGNTEST/`. */
  sign(by: PlatformSigner, body: string | Buffer, probe?: boolean): Promise<Record<string, string>>
}

/**
 * Signs the answer (adds the `Wechatpay-*` headers) once the steps inside it are done. WeChat signs
 * its answer to every request whose signature it verified, whatever the status; an answer to a
 * request it could not authenticate goes unsigned, as does one the handler marks `unsigned` (the
 * bill file). A `probe` fault signs a 2xx answer with a `WECHATPAY/SIGNTEST/` signature.
 */
export function signAnswer(signer: AnswerSigner): CallMiddleware {
  return async (ctx, next) => {
    await next()
    const { answer, authenticated, fault } = ctx.state
    if (!answer || !authenticated || answer.unsigned) return
    const ok = answer.status >= 200 && answer.status < 300
    const requestSerial = ctx.req.headers['wechatpay-serial']
    const by = signer.responseSigner(typeof requestSerial === 'string' ? requestSerial : undefined)
    Object.assign(
      answer.headers,
      await signer.sign(by, answer.payload, ok && fault?.kind === 'probe'),
    )
  }
}

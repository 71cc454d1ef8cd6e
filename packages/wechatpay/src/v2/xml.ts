import { Builder, parseStringPromise } from 'xml2js'
import { WechatPayError } from '../core/errors'
import type { V2Params } from './sign'

const builder = new Builder({
  rootName: 'xml',
  headless: true,
  cdata: true,
  renderOpts: { pretty: false },
})

/** Renders a flat APIv2 message as `<xml><k><![CDATA[v]]></k>…</xml>` (numbers as text). */
export function toXml(params: V2Params): string {
  const clean: Record<string, string> = {}
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null) clean[k] = String(v)
  }
  return builder.buildObject(clean)
}

/**
 * Parses an APIv2 XML message into a flat record of strings. Nested elements are refused: no
 * APIv2 message this SDK handles has them. (xml2js's parser, sax, expands no external entities.)
 */
export async function parseXml(xml: string): Promise<Record<string, string>> {
  let root: unknown
  try {
    root = await parseStringPromise(xml, { explicitArray: false, explicitRoot: false, trim: false })
  } catch (cause) {
    throw new WechatPayError('not well-formed XML', { cause })
  }
  if (typeof root !== 'object' || root === null) throw new WechatPayError('XML has no fields')
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(root as Record<string, unknown>)) {
    if (typeof v !== 'string') throw new WechatPayError(`XML field ${k} is not text`)
    out[k] = v
  }
  return out
}

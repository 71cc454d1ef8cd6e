import { parseStringPromise } from 'xml2js'
import { InvalidArgumentError, WechatPayError } from '../core/errors'
import type { V2Params } from './sign'

const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * Renders a flat APIv2 message the way WeChat writes its own: `<xml><k><![CDATA[v]]></k>…</xml>`,
 * every value in CDATA (xml2js's builder only uses CDATA where escaping is needed). A `]]>` inside a
 * value is split across two CDATA sections. Undefined and null values are left out.
 */
export function toXml(params: V2Params): string {
  let out = '<xml>'
  for (const [name, value] of Object.entries(params)) {
    if (value === undefined || value === null) continue
    if (!FIELD_NAME.test(name)) throw new InvalidArgumentError(`not an XML field name: ${name}`)
    const text = String(value).replaceAll(']]>', ']]]]><![CDATA[>')
    out += `<${name}><![CDATA[${text}]]></${name}>`
  }
  return out + '</xml>'
}

/**
 * Parses an APIv2 XML message (with xml2js) into a flat record of strings. Nested, repeated or
 * attributed elements are refused: no APIv2 message this SDK handles has them. xml2js's parser
 * (sax) expands no external entities.
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

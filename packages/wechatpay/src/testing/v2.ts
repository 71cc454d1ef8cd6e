import { signV2, type V2Params, type V2SignType } from '../v2/sign'
import { toXml } from '../v2/xml'

/** Builds a signed APIv2 payment notification (XML), as WeChat POSTs it. */
export function buildV2Notification(
  fields: V2Params,
  apiV2Key: string,
  signType: V2SignType = 'MD5',
): string {
  const params: V2Params = { return_code: 'SUCCESS', result_code: 'SUCCESS', ...fields }
  if (signType !== 'MD5') params.sign_type = signType
  return toXml({ ...params, sign: signV2(params, apiV2Key, signType) })
}

import type { KeyObject } from 'node:crypto'
import { decryptResource, type EncryptedResource } from '../crypto/aead'
import { normalizeSerial, parseCertificate, type ParsedCertificate } from './keys'
import {
  CertificateVerifier,
  CombinedVerifier,
  type PublicKeyVerifier,
  type Verifier,
} from './verifiers'
import type { ApiRequest, RawResponse } from '../core/api'
import type { Clock } from '../core/clock'
import { WechatPayError } from '../core/errors'

/** One entry of `GET /v3/certificates`. */
export interface PlatformCertificateEntry {
  serial_no: string
  effective_time: string
  expire_time: string
  encrypt_certificate: EncryptedResource
}

/** The body of `GET /v3/certificates`. */
export interface PlatformCertificateList {
  data: PlatformCertificateEntry[]
}

/**
 * What the download needs of the APIv3 client (`WechatPayClient` is one): a type of its own
 * here, so the client can keep its certificates fresh through this module without this module
 * importing the client back.
 */
export interface CertificateDownloadClient {
  readonly apiV3Key: KeyObject
  readonly clock: Clock
  readonly publicKeyVerifier: PublicKeyVerifier | undefined
  send(req: ApiRequest & { verify?: boolean }): Promise<RawResponse>
  verifyResponse(res: RawResponse, verifier?: Verifier): Promise<void>
}

/**
 * Downloads the platform certificates, decrypts each with the APIv3 key, checks that each serial
 * matches its certificate, and then verifies the answer itself. The answer is signed by one of the
 * certificates it carries (or, for a merchant migrating to the public key, by that key), so it is
 * checked against those, not against the client's verifier, which may be the cache being filled.
 *
 * @see https://pay.weixin.qq.com/docs/merchant/apis/platform-certificate/api-v3-get-certificates/get.html
 */
export async function downloadPlatformCertificates(
  client: CertificateDownloadClient,
): Promise<ParsedCertificate[]> {
  const res = await client.send({ method: 'GET', path: '/v3/certificates', verify: false })
  let list: PlatformCertificateList
  try {
    list = JSON.parse(res.body.toString('utf8')) as PlatformCertificateList
  } catch (cause) {
    throw new WechatPayError('the certificate list is not JSON', { cause })
  }
  if (!Array.isArray(list?.data)) throw new WechatPayError('the certificate list has no data')
  const certs = list.data.map((entry) => {
    const cert = parseCertificate(decryptResource(client.apiV3Key, entry.encrypt_certificate))
    if (cert.serialNo !== normalizeSerial(entry.serial_no)) {
      throw new WechatPayError(`certificate ${entry.serial_no} decrypts to serial ${cert.serialNo}`)
    }
    return cert
  })
  const own: Verifier = new CertificateVerifier(certs, client.clock)
  const publicKey = client.publicKeyVerifier
  await client.verifyResponse(res, publicKey ? new CombinedVerifier(publicKey, own) : own)
  return certs
}

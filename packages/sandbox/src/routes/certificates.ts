import { encryptResource, formatBeijingTime, parseCertificate } from '@fen/wechatpay'
import { WechatError } from '../errors'
import type { Route } from '../http'

export const certificateRoutes: Route[] = [
  {
    method: 'GET',
    path: '/v3/certificates',
    kind: 'v3',
    handler: ({ sandbox }) => {
      // A public-key-only merchant has no platform certificate (HTTP status UNCONFIRMED; 404 here).
      if (sandbox.platformMode === 'publicKey') {
        throw new WechatError(
          404,
          'RESOURCE_NOT_EXISTS',
          '无可用的平台证书，请在商户平台-API安全申请使用微信支付公钥。',
        )
      }
      const listed = sandbox.keys.platformCertificates.filter((c) =>
        sandbox.listedCertificates.includes(c.serialNo),
      )
      const data = listed.map((c) => {
        const cert = parseCertificate(c.certificate)
        return {
          serial_no: c.serialNo,
          effective_time: formatBeijingTime(cert.validFrom),
          expire_time: formatBeijingTime(cert.validTo),
          encrypt_certificate: encryptResource(sandbox.apiV3Key, c.certificate, {
            associatedData: 'certificate',
          }),
        }
      })
      return { status: 200, body: { data } }
    },
  },
]

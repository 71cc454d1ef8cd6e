import type { ParsedCertificate } from '../auth/keys'
import { downloadPlatformCertificates } from '../auth/platform-certificates'
import type { WechatPayClient } from '../core/client'

/** `/v3/certificates`: the platform certificate list. */
export class Certificates {
  constructor(private readonly client: WechatPayClient) {}

  /** Downloads, decrypts and verifies the current platform certificates. */
  list(): Promise<ParsedCertificate[]> {
    return downloadPlatformCertificates(this.client)
  }
}

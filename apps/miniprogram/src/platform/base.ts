/**
 * The platform of this build. Taro resolves `./base` per platform: `base.h5.ts` in H5 builds, this
 * file everywhere else — so a weapp bundle never contains the H5 code (nor its QR library).
 */
export { weappPlatform as basePlatform } from './weapp'

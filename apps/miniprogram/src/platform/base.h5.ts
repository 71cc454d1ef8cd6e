/** H5 builds: see base.ts. */
export { h5Platform as basePlatform } from './h5'

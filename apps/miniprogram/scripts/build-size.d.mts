// Types of build-size.mjs, for TypeScript callers (bench/miniprogram.bench.ts).

export interface SizedFile {
  /** Relative to the build's folder. */
  path: string
  bytes: number
}

export function listFiles(dir: string): string[]

export function weappMainPackage(weappDir: string): {
  bytes: number
  files: SizedFile[]
  /** Bytes by file extension (js, wxss, wxml, json, …). */
  byType: Record<string, number>
}

export function gzipSize(buffer: Buffer): number

export function h5FirstLoad(h5Dir: string): {
  /** The first page of the app config, e.g. pages/index/index. */
  page: string
  /** The webpack chunk ids its route loads. */
  chunks: string[]
  files: (SizedFile & { gzipBytes: number })[]
  bytes: number
  gzipBytes: number
}

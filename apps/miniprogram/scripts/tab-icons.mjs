// Draws the tab bar icons (src/assets/tab/*.png): weapp's tabBar takes only PNG/JPG files, no
// SVG or icon font. Run `node scripts/tab-icons.mjs` after changing a shape or a colour; the
// PNGs are committed, so builds need nothing from here.
import { writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { deflateSync } from 'node:zlib'

const SIZE = 81 // WeChat's recommended 81 × 81 px
const SAMPLES = 4 // per axis: 16 samples a pixel smooth the edges
const COLORS = { normal: [140, 149, 159], active: [139, 90, 43] } // app.config.ts tabBar colours

// Each shape says whether a point (0..1 on both axes) is inked. Strokes are ~0.07 wide.
const W = 0.07
const ring = (x, y, cx, cy, r) => Math.abs(Math.hypot(x - cx, y - cy) - r) <= W / 2
const disc = (x, y, cx, cy, r) => Math.hypot(x - cx, y - cy) <= r
/** Distance from a point to the segment a–b. */
function segment(x, y, ax, ay, bx, by) {
  const dx = bx - ax
  const dy = by - ay
  const t = Math.max(0, Math.min(1, ((x - ax) * dx + (y - ay) * dy) / (dx * dx + dy * dy)))
  return Math.hypot(x - ax - t * dx, y - ay - t * dy)
}
const line = (x, y, ax, ay, bx, by) => segment(x, y, ax, ay, bx, by) <= W / 2

const SHAPES = {
  // A cup with a handle and steam: 首页 of a coffee shop.
  home: (x, y) =>
    line(x, y, 0.2, 0.45, 0.7, 0.45) ||
    line(x, y, 0.22, 0.45, 0.28, 0.82) ||
    line(x, y, 0.68, 0.45, 0.62, 0.82) ||
    line(x, y, 0.28, 0.82, 0.62, 0.82) ||
    (ring(x, y, 0.72, 0.58, 0.09) && x > 0.7) ||
    line(x, y, 0.38, 0.18, 0.38, 0.33) ||
    line(x, y, 0.52, 0.18, 0.52, 0.33),
  // A shopping cart: handle, basket, two wheels.
  cart: (x, y) =>
    line(x, y, 0.12, 0.22, 0.24, 0.22) ||
    line(x, y, 0.24, 0.22, 0.34, 0.66) ||
    line(x, y, 0.3, 0.34, 0.86, 0.34) ||
    line(x, y, 0.86, 0.34, 0.78, 0.58) ||
    line(x, y, 0.32, 0.58, 0.78, 0.58) ||
    line(x, y, 0.34, 0.66, 0.8, 0.66) ||
    disc(x, y, 0.4, 0.8, 0.06) ||
    disc(x, y, 0.74, 0.8, 0.06),
  // A person: head and shoulders.
  mine: (x, y) =>
    ring(x, y, 0.5, 0.34, 0.15) ||
    (ring(x, y, 0.5, 0.86, 0.3) && y <= 0.86) ||
    line(x, y, 0.2, 0.86, 0.8, 0.86),
}

function crc32(buf) {
  let c = ~0
  for (const b of buf) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
  }
  return ~c >>> 0
}
function chunk(type, data) {
  const len = Buffer.alloc(4)
  len.writeUInt32BE(data.length)
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(body))
  return Buffer.concat([len, body, crc])
}
/** An RGBA PNG of `shape` in `rgb`, its coverage as the alpha channel. */
function png(shape, rgb) {
  const rows = []
  for (let py = 0; py < SIZE; py++) {
    const row = Buffer.alloc(1 + SIZE * 4) // filter byte 0, then RGBA
    for (let px = 0; px < SIZE; px++) {
      let hits = 0
      for (let sy = 0; sy < SAMPLES; sy++)
        for (let sx = 0; sx < SAMPLES; sx++)
          if (shape((px + (sx + 0.5) / SAMPLES) / SIZE, (py + (sy + 0.5) / SAMPLES) / SIZE)) hits++
      row.set([...rgb, Math.round((255 * hits) / SAMPLES ** 2)], 1 + px * 4)
    }
    rows.push(row)
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(SIZE, 0)
  header.writeUInt32BE(SIZE, 4)
  header.set([8, 6, 0, 0, 0], 8) // 8-bit RGBA, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', deflateSync(Buffer.concat(rows), { level: 9 })),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/assets/tab')
for (const [name, shape] of Object.entries(SHAPES)) {
  writeFileSync(path.join(out, `${name}.png`), png(shape, COLORS.normal))
  writeFileSync(path.join(out, `${name}-active.png`), png(shape, COLORS.active))
}
console.log(`wrote ${Object.keys(SHAPES).length * 2} icons to ${path.relative(process.cwd(), out)}`)

/** No import circles (see the base config); `pnpm lint` runs it. */
module.exports = { extends: '../../.dependency-cruiser.base.cjs' }

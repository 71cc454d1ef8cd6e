/**
 * The server's layers (issue #24), checked by `pnpm lint`: routes → services → domain →
 * repositories → db; jobs beside routes (they call services); wechat/ and events/ are adapters
 * below services. Nothing imports upward, and imports never go round in a circle (type imports
 * count). Top-level modules (config, logger, urls, concurrency, …) and catalogue/ sit below every
 * layer and import none; only the composition roots (app.ts, main.ts) wire the layers together,
 * and nothing in src imports them (main.ts imports app.ts).
 */
/** @type {(name: string, from: string, forbidden: string) => import('dependency-cruiser').IForbiddenRuleType} */
const layer = (name, from, forbidden) => ({
  name,
  severity: 'error',
  from: { path: from },
  to: { path: forbidden },
})

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  extends: '../../.dependency-cruiser.base.cjs',
  forbidden: [
    layer(
      'routes-not-below-services',
      '^src/routes/',
      '^src/(repositories|domain|db/schema|jobs)/',
    ),
    layer('jobs-not-below-services', '^src/jobs/', '^src/(repositories|domain|db|routes)/'),
    layer('services-not-up', '^src/services/', '^src/(routes|jobs)/'),
    layer('domain-not-up', '^src/domain/', '^src/(services|routes|jobs)/'),
    layer(
      'repositories-not-up',
      '^src/repositories/',
      '^src/(services|domain|routes|jobs|wechat|events)/',
    ),
    layer(
      'db-not-up',
      '^src/db/',
      '^src/(repositories|services|domain|routes|jobs|wechat|events)/',
    ),
    layer('wechat-not-up', '^src/wechat/', '^src/(services|domain|routes|jobs)/'),
    layer('events-not-up', '^src/events/', '^src/(services|domain|routes|jobs)/'),
    {
      name: 'base-not-up',
      severity: 'error',
      from: { path: '^src/([^/]+[.]ts$|catalogue/)', pathNot: '^src/(app|main)[.]ts$' },
      to: { path: '^src/(routes|jobs|services|domain|repositories|db|wechat|events)/' },
    },
    {
      name: 'roots-not-imported',
      severity: 'error',
      from: { pathNot: '^src/main[.]ts$' },
      to: { path: '^src/(app|main)[.]ts$' },
    },
  ],
}

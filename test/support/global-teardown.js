export default async function globalTeardown() {
  await Promise.all([globalThis.__redurableRedis?.stop(), globalThis.__redurableCluster?.stop()]);
}

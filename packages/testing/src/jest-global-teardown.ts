export default async function globalTeardown(): Promise<void> {
  await globalThis.__HOOKRELAY_REDIS__?.stop();
}

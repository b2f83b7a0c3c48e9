// Preloaded (node --import) into the Hookrelay processes the bench starts, and nothing else: the
// process runs apps/api/src/main.ts or apps/worker/src/main.ts unchanged, and stops (SIGTERM, its
// own graceful shutdown) when the bench that started it goes away, even if the bench was killed.
if (process.channel) {
  process.channel.unref();
  process.once('disconnect', () => {
    setTimeout(() => process.exit(1), 15_000).unref();
    process.kill(process.pid, 'SIGTERM');
  });
}

export {};

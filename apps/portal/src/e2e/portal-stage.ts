// Test-only: what every portal end-to-end suite stands on, started side by side before the suite
// and closed after it: the built portal, an API harness serving it, a receiver and Chromium.
import { TestReceiver, type Reply } from '@hookrelay/testing';
import type { Browser } from 'playwright-core';
import { startApiHarness, type ApiHarness, type ApiHarnessOptions } from '../../../api/src/api-harness';
import { buildPortal, launchChromium } from './browser';

export interface PortalStage {
  h: ApiHarness;
  receiver: TestReceiver;
  browser: Browser;
}

/** Building the portal and launching Chromium take seconds; a loaded CI machine needs the margin. */
const START_TIMEOUT_MS = 90_000;

/**
 * Registers the suite's beforeAll and afterAll. The returned object is filled in by the beforeAll,
 * so read it in hooks and tests, not at declaration (`options` is read there too, so a closure over
 * the suite's clock works).
 */
export function usePortalStage(options: ApiHarnessOptions, reply: Reply): PortalStage {
  const stage = {} as PortalStage;
  beforeAll(async () => {
    buildPortal();
    [stage.h, stage.receiver, stage.browser] = await Promise.all([startApiHarness(options), TestReceiver.start(reply), launchChromium()]);
  }, START_TIMEOUT_MS);
  afterAll(async () => {
    await stage.browser?.close();
    await Promise.all([stage.h?.close(), stage.receiver?.close()]);
  });
  return stage;
}

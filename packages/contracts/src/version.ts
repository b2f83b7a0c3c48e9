/** Sent as `User-Agent: Hookrelay/<version>`; a test keeps it equal to the root package.json version. */
export const HOOKRELAY_VERSION = '0.1.0';
export const USER_AGENT = `Hookrelay/${HOOKRELAY_VERSION}`;

/**
 * A record kept changing under a read-modify-write (other writers won every compare-and-set): the
 * caller's change was not made. Not a fault of the service, and not to be retried without bound
 * (each try reads and parses the record again): the API answers 409 and the client tries again.
 */
export class ConcurrentChangeError extends Error {
  constructor(
    readonly record: string,
    readonly id: string,
    attempts: number,
  ) {
    super(`${record} ${id} kept changing during ${attempts} update attempts`);
    this.name = 'ConcurrentChangeError';
  }
}

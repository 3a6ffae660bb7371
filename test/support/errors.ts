import { UserError } from '../../src/domain/errors.js';

/** Awaits a promise that must fail with a UserError, and returns the error for assertions. */
export async function userError(p: Promise<unknown>): Promise<UserError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof UserError)) throw new Error(`expected a UserError, got ${String(e)}`);
  return e;
}

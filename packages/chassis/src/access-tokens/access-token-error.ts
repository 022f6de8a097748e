import type { Rejection } from './verify-token.js';

/** A token `ctx.accessTokens.verify()` did not accept; `outcome` says why, `message` in words. */
export class AccessTokenError extends Error {
  override readonly name = 'AccessTokenError';
  readonly outcome: Rejection['outcome'];

  constructor(rejection: Rejection) {
    super(rejection.description, rejection.cause === undefined ? undefined : { cause: rejection.cause });
    this.outcome = rejection.outcome;
  }
}

/**
 * What the platform's functions receive: the core's context, and the platform's own shared state,
 * the per-account limits on password checks and mails (shared through Redis when configured).
 */
import type { Context } from '../core/context.js';
import type { AccountLimits } from './accounts/account-limits.js';

export interface PlatformContext extends Context {
  accountLimits: AccountLimits;
}

/** What a grant type's module provides to the token endpoint (index.ts dispatches by grant_type). */
import type { RequestMeta } from '../../audit.js';
import type { OAuthClient } from '../../clients/client.js';
import type { Context } from '../../context.js';
import type { TokenResponse } from '../token-response.js';

export interface GrantTypeHandler<Parameter extends string = string> {
  /** The token request's parameters this grant reads (besides grant_type and client authentication). */
  parameters: readonly Parameter[];
  handle(ctx: Context, client: OAuthClient, params: Partial<Record<Parameter, string>>, meta: RequestMeta): Promise<TokenResponse>;
}

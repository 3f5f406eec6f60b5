/** The few parts of autocannon and oidc-provider the benchmark uses; neither package ships types. */

declare module 'autocannon' {
  interface Histogram {
    average: number;
    mean: number;
    p50: number;
    p99: number;
    total: number;
  }
  interface AutocannonRequest {
    method?: string;
    path?: string;
    headers?: Record<string, string>;
    body?: string;
    setupRequest?: (request: AutocannonRequest, context: Record<string, unknown>) => AutocannonRequest;
  }
  export interface AutocannonOptions {
    url: string;
    connections?: number;
    duration?: number;
    maxOverallRequests?: number;
    timeout?: number;
    requests?: AutocannonRequest[];
  }
  export interface AutocannonResult {
    requests: Histogram;
    latency: Histogram;
    duration: number;
    non2xx: number;
    errors: number;
    timeouts: number;
    statusCodeStats: Record<string, { count: number }>;
  }
  export default function autocannon(options: AutocannonOptions): Promise<AutocannonResult>;
}

declare module 'oidc-provider' {
  export interface ClientEntity {
    clientId: string;
  }
  export interface ResourceServerInfo {
    scope: string;
    audience?: string;
    accessTokenFormat?: 'opaque' | 'jwt';
  }
  interface Saveable {
    save(): Promise<string>;
  }
  export class Provider {
    constructor(issuer: string, configuration: Record<string, unknown>);
    callback(): (request: import('node:http').IncomingMessage, response: import('node:http').ServerResponse) => void;
    Client: { find(id: string): Promise<ClientEntity | undefined> };
    Grant: new (fields: { accountId: string; clientId: string }) => Saveable & {
      addOIDCScope(scope: string): void;
      addResourceScope(resource: string, scope: string): void;
    };
    RefreshToken: new (fields: Record<string, unknown> & { client: ClientEntity }) => Saveable;
    AccessToken: new (fields: Record<string, unknown> & { client: ClientEntity }) => Saveable;
    ResourceServer: new (identifier: string, info: ResourceServerInfo) => unknown;
  }
  export default Provider;
}

declare module 'oidc-provider/lib/adapters/memory_adapter.js' {
  export default class MemoryAdapter {
    constructor(model: string, store: unknown, clockTolerance?: number);
  }
}

declare module 'oidc-provider/lib/helpers/lru.js' {
  export default class LRU {
    constructor(options: { maxSize: number });
  }
}

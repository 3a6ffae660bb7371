import type { IncomingHttpHeaders } from 'node:http';

export interface TwinRequest {
  method: string;
  /** Decoded path parameters, e.g. { name: 'churn-endpoint' } for /serving-endpoints/:name */
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
  headers: IncomingHttpHeaders;
  /** The route pattern that matched, e.g. 'GET /api/2.0/serving-endpoints/:name' */
  route: string;
}

export interface TwinResponse {
  status?: number;
  body?: unknown;
  headers?: Record<string, string>;
}

export type Handler = (req: TwinRequest) => TwinResponse | Promise<TwinResponse>;

/** An error in Databricks' envelope; handlers throw it and the server answers with it. */
export class TwinApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

/** Throws the error Databricks would answer with. */
export function fail(status: number, errorCode: string, message: string): never {
  throw new TwinApiError(status, errorCode, message);
}

interface Route {
  method: string;
  pattern: string;
  parts: string[];
  handler: Handler;
}

/** Minimal method + path router; `:name` matches one segment, `:name*` the rest of the path. */
export class Router {
  private readonly routes: Route[] = [];

  add(method: string, pattern: string, handler: Handler): void {
    this.routes.push({ method, pattern, parts: pattern.split('/').filter(Boolean), handler });
  }

  match(method: string, pathname: string): { route: Route; params: Record<string, string> } | undefined {
    const segments = pathname.split('/').filter(Boolean);
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const params = matchParts(route.parts, segments);
      if (params) return { route, params };
    }
    return undefined;
  }

  /** True when some route has this path under another method (for 405-like answers). */
  hasPath(pathname: string): boolean {
    const segments = pathname.split('/').filter(Boolean);
    return this.routes.some((r) => matchParts(r.parts, segments) !== undefined);
  }
}

/** Decodes a path segment; a malformed escape is the caller's mistake, answered as 400. */
function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new TwinApiError(400, 'MALFORMED_REQUEST', `Malformed path segment '${segment}'`);
  }
}

function matchParts(parts: string[], segments: string[]): Record<string, string> | undefined {
  const params: Record<string, string> = {};
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.startsWith(':') && part.endsWith('*')) {
      if (i >= segments.length) return undefined;
      params[part.slice(1, -1)] = segments.slice(i).map(decodeSegment).join('/');
      return params;
    }
    const segment = segments[i];
    if (segment === undefined) return undefined;
    if (part.startsWith(':')) params[part.slice(1)] = decodeSegment(segment);
    else if (part !== segment) return undefined;
  }
  return parts.length === segments.length ? params : undefined;
}

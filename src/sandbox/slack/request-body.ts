import type { IncomingMessage } from 'node:http';

/** Arguments that web-api serialises as JSON strings inside a form body. */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata', 'files', 'user_auth_blocks', 'view']);

const MAX_BODY_BYTES = 50 * 1024 * 1024;

export interface ApiRequest {
  args: Record<string, unknown>;
  token?: string;
}

/** Reads the whole request body; rejects above 50 MB. */
export async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as string);
    size += buf.length;
    if (size > MAX_BODY_BYTES) throw new Error('request body too large');
    chunks.push(buf);
  }
  return Buffer.concat(chunks);
}

function decodeJsonFields(args: Record<string, unknown>): Record<string, unknown> {
  for (const key of Object.keys(args)) {
    const value = args[key];
    if (!JSON_FIELDS.has(key) || typeof value !== 'string') continue;
    try {
      args[key] = JSON.parse(value);
    } catch {
      // Left as the raw string: the method answers invalid_blocks_format / invalid_arguments like Slack.
    }
  }
  return args;
}

function contentTypeOf(req: IncomingMessage): string {
  return (req.headers['content-type'] ?? '').toLowerCase();
}

async function parseMultipart(contentType: string, body: Buffer): Promise<FormData> {
  return new Response(new Uint8Array(body), { headers: { 'content-type': contentType } }).formData();
}

/**
 * Decodes a Web API request the ways web-api 8 and other clients send it: query string, form-urlencoded,
 * JSON (token in `Authorization: Bearer`), or multipart. The token is taken out of the arguments.
 *
 * @example
 * const { args, token } = await parseApiRequest(req, await readBody(req), url.searchParams);
 */
export async function parseApiRequest(
  req: IncomingMessage,
  body: Buffer,
  query: URLSearchParams,
): Promise<ApiRequest> {
  const args: Record<string, unknown> = Object.fromEntries(query);
  const contentType = contentTypeOf(req);
  if (body.length > 0) {
    if (contentType.startsWith('application/json')) {
      const parsed: unknown = JSON.parse(body.toString('utf8'));
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed))
        Object.assign(args, parsed);
    } else if (contentType.startsWith('multipart/form-data')) {
      const form = await parseMultipart(contentType, body);
      for (const [key, value] of form) {
        args[key] =
          typeof value === 'string'
            ? value
            : { filename: value.name, bytes: Buffer.from(await value.arrayBuffer()) };
      }
    } else {
      Object.assign(args, Object.fromEntries(new URLSearchParams(body.toString('utf8'))));
    }
  }
  const header = req.headers.authorization;
  const bearer = header?.startsWith('Bearer ') ? header.slice('Bearer '.length).trim() : undefined;
  const bodyToken = typeof args.token === 'string' ? args.token : undefined;
  delete args.token;
  const token = bearer || bodyToken;
  return token ? { args: decodeJsonFields(args), token } : { args: decodeJsonFields(args) };
}

/**
 * The file bytes of an upload POST: the first file part of a multipart body (web-api 8 sends one part
 * named `body`), otherwise the raw body.
 */
export async function parseUploadBody(req: IncomingMessage, body: Buffer): Promise<Buffer> {
  const contentType = contentTypeOf(req);
  if (!contentType.startsWith('multipart/form-data')) return body;
  const form = await parseMultipart(contentType, body);
  for (const [, value] of form) {
    if (typeof value !== 'string') return Buffer.from(await value.arrayBuffer());
  }
  const first = form.values().next();
  return typeof first.value === 'string' ? Buffer.from(first.value, 'utf8') : Buffer.alloc(0);
}

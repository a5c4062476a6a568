import type { IncomingMessage, ServerResponse } from 'node:http';
import { parseJsonLossless, stringifyJsonLossless } from '@atoll/model';
import { ApiError, badRequest, internalError, requestTooLarge, unsupportedMediaType } from './status';

// Reading request bodies and writing JSON responses. Every response body is JSON with
// `Content-Type: application/json`: @kubernetes/client-node refuses to parse a body whose
// Content-Type is missing or not JSON-like, and kubectl needs the plain type to fall back
// from aggregated to legacy discovery.

/** The apiserver's limit for a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw requestTooLarge(limit);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

const JSON_BODY_TYPES = ['application/json'] as const;

/**
 * The body as JSON; `undefined` when it is empty (DELETE without DeleteOptions). Other
 * encodings get a 415: kubectl's imperative generators (`kubectl create namespace x`)
 * send protobuf, which this stand-in does not decode.
 */
export async function readJsonBody(req: IncomingMessage, mediaTypes: readonly string[] = JSON_BODY_TYPES): Promise<unknown> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  if (type !== '' && !mediaTypes.includes(type)) throw unsupportedMediaType(type, mediaTypes);
  const text = await readBody(req);
  if (text.trim() === '') return undefined;
  try {
    // Integers beyond 2^53 (Calico's uint64 sequence numbers) stay exact, as in the apiserver.
    return parseJsonLossless(text);
  } catch (err) {
    throw badRequest(`couldn't get version/kind; json parse error: ${(err as Error).message}`);
  }
}

export function sendJson(res: ServerResponse, code: number, body: unknown): void {
  const text = stringifyJsonLossless(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

/** Any failure becomes a Status response; unexpected ones become a 500 InternalError. */
export function sendError(res: ServerResponse, err: unknown): number {
  const apiError = err instanceof ApiError ? err : internalError((err as Error)?.message ?? String(err));
  if (res.headersSent) {
    // a watch stream already answered 200: all that is left is to end it
    res.end();
  } else {
    sendJson(res, apiError.code, apiError.status);
  }
  return apiError.code;
}

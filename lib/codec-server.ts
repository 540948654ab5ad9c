import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { PayloadCodec } from '@temporalio/common';
import { JSONToPayload, payloadToJSON, type JSONPayload } from '@temporalio/common/lib/proto-utils';

/**
 * The codec endpoint the Temporal Web UI calls to show decoded payloads (`temporal server start-dev
 * --ui-codec-endpoint URL`, or the UI's own "Codec Server" setting). What the UI sends (temporalio/ui,
 * src/lib/services/data-encoder.ts): `POST {endpoint}/decode` (and `/encode` for the Start Workflow,
 * Signal and Update forms) with headers `Content-Type: application/json` and `X-Namespace: <namespace>`
 * (plus `Authorization: Bearer …` only when the UI passes its access token, which it does over https
 * only), body `{"payloads":[{"metadata":{"encoding":"<base64>",…},"data":"<base64>"}]}` as the proto3
 * JSON of the history; it expects the same shape back. Being a cross-origin request with a custom header,
 * the browser sends a CORS preflight (OPTIONS) first. On a failed decode the UI shows the raw payloads.
 */

export interface CodecServerOptions {
  codec: PayloadCodec;
  /** Browser origins allowed to call, e.g. the Web UI at "http://127.0.0.1:8233". */
  allowedOrigins: readonly string[];
  /** Namespaces decoded for (X-Namespace); any when omitted. */
  namespaces?: readonly string[];
  /** For a UI configured with "include cross-origin credentials". */
  allowCredentials?: boolean;
  /** 8 MiB unless set: the UI sends the payloads of one event or one history page at a time. */
  maxBodyBytes?: number;
  /** Told about every refused or failed request (never with payload contents). */
  onProblem?: (problem: { status: number; path: string; namespace?: string; message: string }) => void;
}

const allowedHeaders = ['content-type', 'x-namespace', 'authorization', 'authorization-extras'];

class HttpProblem extends Error {
  constructor(readonly status: number, message: string) {
    super(message);
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.pause();
        reject(new HttpProblem(413, `the request body is over ${limit} bytes`));
      } else chunks.push(chunk);
    });
    req.once('end', () => resolve(Buffer.concat(chunks)));
    req.once('error', reject);
  });
}

function parsePayloads(body: Buffer): JSONPayload[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpProblem(400, 'the body is not JSON');
  }
  const payloads = (parsed as { payloads?: unknown } | null)?.payloads;
  if (!Array.isArray(payloads)) throw new HttpProblem(400, 'the body must be {"payloads": [...]}');
  return payloads.map((payload: unknown, index) => {
    if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) throw new HttpProblem(400, `payloads[${index}] is not an object`);
    return payload as JSONPayload;
  });
}

function toPayloads(json: JSONPayload[]) {
  return json.map((payload, index) => {
    try {
      return JSONToPayload(payload);
    } catch (error) {
      throw new HttpProblem(400, `payloads[${index}] is not a Temporal payload: ${(error as Error).message}`);
    }
  });
}

/** A request handler for node:http (or any framework that hands over IncomingMessage/ServerResponse). */
export function codecRequestHandler(options: CodecServerOptions): (req: IncomingMessage, res: ServerResponse) => void {
  const origins = new Set(options.allowedOrigins.map((o) => o.replace(/\/+$/, '')));
  const namespaces = options.namespaces ? new Set(options.namespaces) : undefined;
  const limit = options.maxBodyBytes ?? 8 * 1024 * 1024;

  return (req, res) => {
    const path = new URL(req.url ?? '/', 'http://codec').pathname.replace(/\/+$/, '');
    const origin = req.headers.origin;
    const namespaceHeader = req.headers['x-namespace'];
    const namespace = Array.isArray(namespaceHeader) ? namespaceHeader[0] : namespaceHeader;
    const send = (status: number, body?: unknown) => {
      res.statusCode = status;
      if (body !== undefined) {
        res.setHeader('Content-Type', 'application/json');
        res.end(JSON.stringify(body));
      } else res.end();
    };
    const fail = (status: number, message: string) => {
      options.onProblem?.({ status, path, namespace, message });
      send(status, { error: message });
    };

    res.setHeader('Vary', 'Origin');
    // Decoded payloads are customer data: no cache may keep them.
    res.setHeader('Cache-Control', 'no-store');
    if (origin !== undefined) {
      if (!origins.has(origin)) return fail(403, `origin ${origin} may not use this codec server (allowed: ${[...origins].join(', ') || 'none'})`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      if (options.allowCredentials) res.setHeader('Access-Control-Allow-Credentials', 'true');
    }
    if (path !== '/encode' && path !== '/decode') return fail(404, `no such endpoint ${path}: use POST /encode or POST /decode`);

    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', allowedHeaders.join(', '));
      res.setHeader('Access-Control-Max-Age', '600');
      // Chrome's Private Network Access preflight, for a UI served from a non-loopback address.
      if (req.headers['access-control-request-private-network'] === 'true') res.setHeader('Access-Control-Allow-Private-Network', 'true');
      return send(204);
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      return fail(405, `${req.method ?? 'this method'} is not allowed: use POST`);
    }
    // application/json forces a browser to preflight, so no page can post here without passing CORS.
    if (!/^application\/json\s*(;|$)/i.test(req.headers['content-type'] ?? '')) return fail(415, 'the body must be sent as Content-Type: application/json');
    if (namespaces && (namespace === undefined || !namespaces.has(namespace))) {
      return fail(403, namespace === undefined ? 'the X-Namespace header is missing' : `this codec server does not serve namespace ${JSON.stringify(namespace)}`);
    }

    readBody(req, limit)
      .then(async (body) => {
        const payloads = toPayloads(parsePayloads(body));
        let converted;
        try {
          converted = path === '/encode' ? await options.codec.encode(payloads) : await options.codec.decode(payloads);
        } catch (error) {
          throw new HttpProblem(422, `could not ${path.slice(1)}: ${(error as Error).message}`);
        }
        send(200, { payloads: converted.map((payload) => payloadToJSON(payload)) });
      })
      .catch((error: unknown) => {
        if (res.headersSent) return;
        if (error instanceof HttpProblem && error.status === 413) {
          // Answer, then drop the connection rather than read the rest of an oversized body.
          res.setHeader('Connection', 'close');
          res.once('finish', () => req.socket.destroy());
        }
        if (error instanceof HttpProblem) fail(error.status, error.message);
        else fail(500, `the codec server failed: ${(error as Error).message}`);
      });
  };
}

export interface StartCodecServerOptions extends CodecServerOptions {
  /** 127.0.0.1 unless set: the decoded payloads are for this machine's browser only. */
  host?: string;
  /** 0 (a free port) unless set. */
  port?: number;
}

export interface RunningCodecServer {
  /** The endpoint to give the UI (`--ui-codec-endpoint`), e.g. http://127.0.0.1:8888. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

export function startCodecServer(options: StartCodecServerOptions): Promise<RunningCodecServer> {
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer(codecRequestHandler(options));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      const { port } = server.address() as AddressInfo;
      resolve({
        url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
        port,
        close: () => new Promise<void>((done) => { server.closeAllConnections(); server.close(() => done()); }),
      });
    });
  });
}

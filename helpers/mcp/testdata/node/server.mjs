// An MCP server on 127.0.0.1 built from the official TypeScript SDK:
// Streamable HTTP with sessions and resumable streams, behind the SDK's
// bearer-token middleware. Tokens are checked by asking VERIFY_URL (the
// test's authorization server) with the token, so only tokens it issued
// and has not revoked pass.
//
// Prints one JSON line {"url": ...} on stdout when it listens; GET /_stats
// (no auth) answers counters for the test.
import { randomUUID } from 'node:crypto';
import express from 'express';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { z } from 'zod';

const verifyURL = process.env.VERIFY_URL;
if (!verifyURL) throw new Error('VERIFY_URL is required');

const stats = { post: 0, get: 0, delete: 0, unauthorized: 0, sessions: 0, deleted: [], protocolVersions: [], calls: 0, resumed: 0 };
const transports = new Map();

// An event store for resumable streams. (The SDK's example store derives
// the stream from the event id's text before its first "_", which is empty
// for the GET stream's id "_GET_stream", so it never replays that stream.)
class EventStore {
  constructor() {
    this.events = [];
  }
  async storeEvent(streamId, message) {
    const id = String(this.events.length + 1);
    this.events.push({ id, streamId, message });
    return id;
  }
  async getStreamIdForEventId(id) {
    return this.events.find((e) => e.id === id)?.streamId;
  }
  async replayEventsAfter(lastEventId, { send }) {
    const i = this.events.findIndex((e) => e.id === lastEventId);
    if (i < 0) return '';
    const { streamId } = this.events[i];
    for (const e of this.events.slice(i + 1)) {
      if (e.streamId === streamId) await send(e.id, e.message);
    }
    return streamId;
  }
}

function newServer(transport) {
  const server = new McpServer({ name: 'lanyard-e2e', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool('echo', { description: 'Echo the text', inputSchema: { text: z.string() } }, async ({ text }) => {
    stats.calls++;
    return { content: [{ type: 'text', text: `echo: ${text}` }] };
  });
  server.registerTool('notify', { description: 'Send a notification on the request stream and one on the GET stream', inputSchema: {} }, async (_args, extra) => {
    stats.calls++;
    await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'on the request stream' } });
    const sid = extra.sessionId;
    setTimeout(() => {
      server.server.sendLoggingMessage({ level: 'info', data: 'on the GET stream' }).catch(() => {});
    }, 200);
    return { content: [{ type: 'text', text: `notified ${sid}` }] };
  });
  server.registerTool('drop', { description: 'Close the GET stream, then notify: the client must resume with Last-Event-ID', inputSchema: {} }, async () => {
    stats.calls++;
    transport().closeStandaloneSSEStream();
    setTimeout(() => {
      server.server.sendLoggingMessage({ level: 'info', data: 'after the drop' }).catch(() => {});
    }, 100);
    return { content: [{ type: 'text', text: 'dropped' }] };
  });
  return server;
}

const verifier = {
  async verifyAccessToken(token) {
    const r = await fetch(verifyURL, { headers: { authorization: `Bearer ${token}` } });
    if (r.status !== 200) {
      stats.unauthorized++;
      throw new InvalidTokenError('token not valid');
    }
    return { token, clientId: 'lanyard', scopes: [], expiresAt: Math.floor(Date.now() / 1000) + 3600 };
  },
};

const app = express();
app.use(express.json());
app.get('/_stats', (_req, res) => res.json(stats));

// RFC 9728 protected resource metadata, when AS_URL names the
// authorization server (the discovery scenario).
const asURL = process.env.AS_URL;
app.get('/.well-known/oauth-protected-resource/mcp', (_req, res) => {
  if (!asURL) {
    res.status(404).end();
    return;
  }
  res.json({ resource: `${base}/mcp`, authorization_servers: [asURL], scopes_supported: ['mcp:tools'] });
});

let base = '';
const auth = (req, res, next) =>
  requireBearerAuth({ verifier, resourceMetadataUrl: `${base}/.well-known/oauth-protected-resource/mcp` })(req, res, next);

app.all('/mcp', auth, async (req, res) => {
  const v = req.headers['mcp-protocol-version'];
  if (v) stats.protocolVersions.push(`${req.method} ${v}`);
  const sid = req.headers['mcp-session-id'];
  if (req.method === 'POST') stats.post++;
  if (req.method === 'GET') stats.get++;
  if (req.method === 'GET' && req.headers['last-event-id']) stats.resumed++;
  if (req.method === 'DELETE') {
    stats.delete++;
    if (sid) stats.deleted.push(sid);
  }
  let transport = sid ? transports.get(sid) : undefined;
  if (!transport) {
    if (req.method !== 'POST' || sid) {
      res.status(404).json({ jsonrpc: '2.0', error: { code: -32001, message: 'session not found' }, id: null });
      return;
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      eventStore: new EventStore(),
      retryInterval: 200,
      onsessioninitialized: (id) => {
        stats.sessions++;
        transports.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) transports.delete(transport.sessionId);
    };
    const t = transport;
    await newServer(() => t).connect(transport);
  }
  await transport.handleRequest(req, res, req.body);
});

const listener = app.listen(0, '127.0.0.1', () => {
  base = `http://127.0.0.1:${listener.address().port}`;
  process.stdout.write(JSON.stringify({ url: `${base}/mcp` }) + '\n');
});
process.on('SIGTERM', () => process.exit(0));

// An MCP client built from the official TypeScript SDK: it starts
// `lanyard mcp ARGS...` over stdio (the SDK's StdioClientTransport, which
// gives the child only HOME, PATH and a few more variables, plus EXTRA_ENV),
// initializes, lists and calls tools, and waits for the server's
// notifications. It prints one JSON line with what it saw, or
// {"error": ...}, and exits 0 either way.
//
// argv: STEPS (comma separated: init,list,echo,notify,hold) then lanyard's args.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';

const [steps, command, ...args] = process.argv.slice(2);
const extraEnv = JSON.parse(process.env.EXTRA_ENV || '{}');
const out = { notifications: [], stderr: '' };
const transport = new StdioClientTransport({ command, args, env: extraEnv, stderr: 'pipe' });
transport.stderr?.on('data', (d) => { out.stderr += d.toString(); });
const client = new Client({ name: 'lanyard-e2e-client', version: '1.0.0' });
client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => { out.notifications.push(n.params.data); });

const wait = (ms) => new Promise((r) => setTimeout(r, ms));
const step = async (name) => {
  switch (name) {
    case 'init':
      await client.connect(transport);
      out.server = client.getServerVersion()?.name;
      break;
    case 'list':
      out.tools = (await client.listTools()).tools.map((t) => t.name).sort();
      break;
    case 'echo':
      out.echo = (out.echo || []).concat((await client.callTool({ name: 'echo', arguments: { text: 'hi' } })).content[0].text);
      break;
    case 'notify': {
      out.notify = (await client.callTool({ name: 'notify', arguments: {} })).content[0].text;
      for (let i = 0; i < 100 && out.notifications.length < 2; i++) await wait(50);
      break;
    }
    case 'drop': {
      out.drop = (await client.callTool({ name: 'drop', arguments: {} })).content[0].text;
      for (let i = 0; i < 200 && !out.notifications.includes('after the drop'); i++) await wait(50);
      break;
    }
    case 'hold': {
      // Wait for a line on stdin: the test changes the world in between.
      process.stdout.write(JSON.stringify({ holding: true }) + '\n');
      await new Promise((r) => process.stdin.once('data', r));
      break;
    }
    default:
      throw new Error(`unknown step ${name}`);
  }
};
try {
  for (const s of steps.split(',')) await step(s);
} catch (e) {
  out.error = String(e && e.message ? e.message : e);
  out.code = e && e.code;
}
await client.close().catch(() => {});
await wait(100);
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);

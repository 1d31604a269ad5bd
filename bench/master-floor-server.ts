// Benchmark helper, not product code: the floor of goal (a). A bare fastify
// server (the master's HTTP stack, nothing of vxnet) whose one route parses
// the JSON body, inserts one row with one commit (one fsync, the store's
// durability pragmas) and answers a small JSON. Prints its URL on stdout.
// Run: node --import tsx bench/master-floor-server.ts DIR

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import Fastify from 'fastify';
import { applyDurablePragmas } from '../src/store/sqlite/schema.js';

const dir = process.argv[2];
if (!dir) throw new Error('pass a scratch directory');
mkdirSync(dir, { recursive: true });
const db = new Database(join(dir, `floor-server-${process.pid}.db`));
applyDurablePragmas(db);
db.exec('CREATE TABLE rows (ip TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID');
const insert = db.prepare<[string, string]>('INSERT OR REPLACE INTO rows (ip, body) VALUES (?, ?)');

const app = Fastify({ logger: false });
app.post('/floor', async (req, reply) => {
  const { ip } = req.body as { ip: string };
  const body = JSON.stringify({ ip, vtepIp: '198.18.0.1', overlays: { 'wide-a': { subnet: '10.0.0.0/25' } } });
  insert.run(ip, body);
  return reply.type('application/json').send(body);
});
const url = await app.listen({ host: '127.0.0.1', port: 0 });
process.stdout.write(`listening on ${url}\n`);
process.on('SIGTERM', () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
});

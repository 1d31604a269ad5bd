// Serves the web page (src/web/) at GET /: the HTML and CSS constants, and
// the page's scripts as tsc compiled them next to page.js. Reads only; errors
// go through the error map like every route's.

import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { VxnetError } from '../../errors.js';
import { CONTENT_SECURITY_POLICY, PAGE_CSS, PAGE_HTML } from '../../web/page.js';

/** The browser modules; a fixed list, so no path from a URL reaches the file system. */
const SCRIPTS = ['app.js', 'model.js', 'utilisation.js', 'leases.js', 'leases-model.js', 'refetch.js'] as const;

function readScript(name: string): string | undefined {
  try {
    return readFileSync(new URL(`../../web/${name}`, import.meta.url), 'utf8');
  } catch {
    return undefined; // e.g. run from sources with tsx: answered with a 412 that says what to do
  }
}

function send(reply: FastifyReply, type: string, body: string): FastifyReply {
  return reply
    .header('content-security-policy', CONTENT_SECURITY_POLICY)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('cache-control', 'no-cache')
    .type(type)
    .send(body);
}

export function registerWebRoutes(app: FastifyInstance): void {
  const scripts = new Map(SCRIPTS.map((name) => [name, readScript(name)]));

  app.get('/', async (_req, reply) => send(reply, 'text/html; charset=utf-8', PAGE_HTML));
  // ignoreTrailingSlash makes this /ui/ too.
  app.get('/ui', async (_req, reply) => reply.redirect('/', 302));
  app.get('/ui/page.css', async (_req, reply) => send(reply, 'text/css; charset=utf-8', PAGE_CSS));
  for (const name of SCRIPTS) {
    app.get(`/ui/${name}`, async (_req, reply) => {
      const body = scripts.get(name);
      if (body === undefined) {
        throw new VxnetError(
          'PRECONDITION',
          `the web page's script ${name} is not built; run \`npm run build\` and start the master from dist/`,
        );
      }
      return send(reply, 'text/javascript; charset=utf-8', body);
    });
  }
  // Browsers ask for it on every page load; answer without a 404 in the console.
  app.get('/favicon.ico', async (_req, reply) => reply.status(204).send());
}

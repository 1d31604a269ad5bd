// Text to a checked config: YAML or JSON (JSON is read as YAML), either a whole
// DC/OS config.yaml or just its dcos_overlay_network section. Pure.

import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import { type IssueSink, addError, isPlainObject, newSink, typeName } from './describe.js';
import type { ConfigCheck, ConfigIssue } from './types.js';
import { NETWORK_KEYS, ROOT_PATH, checkConfig } from './validate.js';

let yamlModule: typeof Yaml | undefined;
/** The YAML parser, loaded on first use: `vxnet agent` never reads a config, and loading it costs ~9 MB of RSS (issue 10 (i)). */
const yaml = (): typeof Yaml => (yamlModule ??= createRequire(import.meta.url)('yaml') as typeof Yaml);

/**
 * Deepest nesting read. A config needs 4 levels (section, overlays, overlay,
 * field); far deeper input overflowed the YAML parser's stack, and echoing it
 * back made `--json` output grow with the square of the depth.
 */
export const MAX_NESTING = 32;

/** How deep `value` nests (a scalar is 0), counted without recursion and only up to `limit + 1`. */
function nestingDepth(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    deepest = Math.max(deepest, depth + 1);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return deepest;
}

function tooDeep(sink: IssueSink, sourceName: string, depth?: number): void {
  addError(
    sink,
    sourceName,
    undefined,
    `nests ${depth === undefined ? 'too many' : `more than ${MAX_NESTING}`} levels deep (lists and mappings inside each other); a network config needs 4 (section, overlays, overlay, field)`,
    'remove the deeply nested value: it is not part of a dcos_overlay_network config',
  );
}

const isStackOverflow = (message: string): boolean => /Maximum call stack size exceeded|too much recursion/i.test(message);

/** The line of `text` an error points at, for the issue's value. */
function lineAt(text: string, line: number): string {
  return (text.split(/\r?\n/)[line - 1] ?? '').trim();
}

function syntaxIssues(
  text: string,
  sourceName: string,
  sink: IssueSink,
  errors: { message: string; linePos?: [{ line: number; col: number }, ...unknown[]] }[],
): void {
  // The parser's stack ran out: what follows from it is noise.
  if (errors.some((error) => isStackOverflow(error.message))) {
    tooDeep(sink, sourceName);
    return;
  }
  for (const error of errors) {
    const position = error.linePos?.[0];
    const headline = error.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '');
    const where = position ? `line ${position.line}, column ${position.col}` : 'somewhere in the file';
    addError(
      sink,
      position ? `${sourceName}:${position.line}:${position.col}` : sourceName,
      position ? lineAt(text, position.line) || undefined : undefined,
      `YAML syntax error at ${where}: ${headline}`,
      `fix the syntax at ${where} (check indentation, a missing ":" or an unclosed quote or bracket)`,
    );
  }
}

/** Where the section lives: the whole value or its dcos_overlay_network key. */
function findSection(data: unknown, sourceName: string, sink: IssueSink): { section: unknown; nested: boolean } | undefined {
  if (data === null || data === undefined) {
    addError(
      sink,
      sourceName,
      data,
      'the file is empty',
      'write the dcos_overlay_network section (vtep_subnet, vtep_mac_oui, overlays), or give no file to use the defaults',
    );
    return undefined;
  }
  if (isPlainObject(data)) {
    if (ROOT_PATH in data) return { section: data[ROOT_PATH], nested: true };
    if (Object.keys(data).some((key) => (NETWORK_KEYS as readonly string[]).includes(key))) return { section: data, nested: false };
  }
  const keys = isPlainObject(data) ? ` with keys ${Object.keys(data).slice(0, 8).join(', ')}` : '';
  addError(
    sink,
    sourceName,
    isPlainObject(data) ? Object.keys(data) : data,
    `holds neither a DC/OS config.yaml with a ${ROOT_PATH} key nor that section itself (found ${typeName(data)}${keys})`,
    `add a ${ROOT_PATH}: mapping with vtep_subnet, vtep_mac_oui and overlays, or give no file to use the defaults`,
  );
  return undefined;
}

const nestPath = (issue: ConfigIssue): ConfigIssue => ({
  ...issue,
  path: issue.path === ROOT_PATH ? ROOT_PATH : `${ROOT_PATH}.${issue.path}`,
});

/**
 * Parses and checks config text. Paths of issues inside a whole config.yaml
 * start with "dcos_overlay_network." so they point at the right place.
 */
export function parseConfigText(text: string, sourceName: string): ConfigCheck {
  const sink = newSink();
  let document: ReturnType<typeof Yaml.parseDocument>;
  try {
    document = yaml().parseDocument(text.replace(/^\uFEFF/, ''), { prettyErrors: true, uniqueKeys: true });
  } catch (error) {
    if (!(error instanceof RangeError)) throw error;
    tooDeep(sink, sourceName);
    return sink;
  }
  if (document.errors.length > 0) {
    syntaxIssues(text, sourceName, sink, document.errors);
    return sink;
  }
  let data: unknown;
  try {
    data = document.toJS({ maxAliasCount: 100 });
  } catch (error) {
    if (error instanceof RangeError && isStackOverflow(error.message)) {
      tooDeep(sink, sourceName);
      return sink;
    }
    addError(
      sink,
      sourceName,
      undefined,
      `cannot be read as data: ${error instanceof Error ? error.message : String(error)}`,
      'remove YAML anchors/aliases and custom tags',
    );
    return sink;
  }
  const found = findSection(data, sourceName, sink);
  if (!found) return sink;
  if (found.nested && typeof found.section === 'string' && found.section.trim().startsWith('{')) {
    // DC/OS's expanded configs keep the section as a JSON string.
    try {
      found.section = JSON.parse(found.section);
    } catch (error) {
      const why = error instanceof Error ? error.message : String(error);
      addError(
        sink,
        ROOT_PATH,
        found.section,
        `is a string but not valid JSON (${why})`,
        'write the section as a YAML mapping, or fix the JSON in the string',
      );
      return sink;
    }
  }
  if (nestingDepth(found.section, MAX_NESTING) > MAX_NESTING) {
    tooDeep(sink, found.nested ? ROOT_PATH : sourceName, MAX_NESTING + 1);
    return sink;
  }
  const check = checkConfig(found.section);
  if (!found.nested) return check;
  return { ...check, errors: check.errors.map(nestPath), warnings: check.warnings.map(nestPath) };
}

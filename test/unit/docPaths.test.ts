// The docs name code by path (`source/stack/start.ts`, `agentRunner/network.ts`, `test/unit/defaults.test.ts`):
// each such path leads to a file, so a move or a split that forgets the docs fails here. A path is
// read from its folder: source/, test/, scripts/, bench/, or a folder of source/ (then under source/).
// Placeholders (`source/a/x.ts`, `test/integration/X.test.ts`) and globs are not paths.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const docs = ['README.md', 'CONTRIBUTING.md', 'bench/README.md', ...readdirSync(path.join(repo, 'docs')).map((f) => `docs/${f}`)].filter((f) => f.endsWith('.md') && existsSync(path.join(repo, f)));
const sourceFolders = readdirSync(path.join(repo, 'source'), { withFileTypes: true })
	.filter((e) => e.isDirectory())
	.map((e) => e.name);
const roots = new Set(['source', 'test', 'scripts', 'bench', ...sourceFolders]);

/** The code paths a document names, with their line numbers. */
function codePaths(text: string): Array<{ line: number; name: string }> {
	const out: Array<{ line: number; name: string }> = [];
	for (const [i, line] of text.split('\n').entries()) {
		for (const m of line.matchAll(/(?<![\w./-])([A-Za-z][\w.-]*(?:\/[\w.-]+)+\.(?:tsx?|mjs|sh))\b/g)) {
			const name = m[1]!;
			if (!roots.has(name.split('/')[0]!) || /^[A-Za-z]\.(test\.)?tsx?$/.test(path.basename(name))) continue;
			out.push({ line: i + 1, name });
		}
	}
	return out;
}

test('every code path the docs name is a file of this checkout', () => {
	const missing: string[] = [];
	let seen = 0;
	for (const doc of docs) {
		for (const { line, name } of codePaths(readFileSync(path.join(repo, doc), 'utf8'))) {
			seen++;
			const top = name.split('/')[0]!;
			const file = ['source', 'test', 'scripts', 'bench'].includes(top) ? name : `source/${name}`;
			if (!existsSync(path.join(repo, file))) missing.push(`${doc}:${line}: ${name}`);
		}
	}
	assert.ok(seen > 50, `only ${seen} code paths found in the docs: the pattern no longer reads them`);
	assert.deepEqual(missing, []);
});

test('a path the docs name is read from its folder; placeholders and globs are not paths', () => {
	const found = codePaths(
		'`source/stack/start.ts` and `agentRunner/network.ts`, see test/unit/defaults.test.ts; not source/a/x.ts, test/integration/X.test.ts or source/**/*.test.ts, nor dist/cli.js',
	);
	assert.deepEqual(
		found.map((p) => p.name),
		['source/stack/start.ts', 'agentRunner/network.ts', 'test/unit/defaults.test.ts'],
	);
});

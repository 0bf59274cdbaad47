// The docs' generated parts (scripts/docs/generatedDocs.ts) are what their sources say now: README's key
// table is the keymap the dashboard dispatches on (and draws its `?` help from), docs/engines.md's list of
// left-out files is what scripts/test-engines.sh leaves out and prints. `npm run docs:generate` fixes a stale one.
// And the links between the docs lead somewhere.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { generatedBlocks, generatedFiles, keyTable, leftOutFiles, repoRoot, withBlock } from '../../scripts/docs/generatedDocs.ts';
import { keyBindings } from '../../source/ui/keyBindings.ts';

test('every generated block of the docs is up to date (npm run docs:generate)', () => {
	for (const { file, current, wanted } of generatedFiles()) assert.equal(current, wanted, `${file} is stale: run npm run docs:generate`);
});

test('the key table has one row per binding, with each of its keys', () => {
	const rows = keyTable().split('\n').slice(2);
	assert.equal(rows.length, keyBindings.length);
	assert.match(rows.find((r) => r.includes('scroll the pane up a page'))!, /`PgUp` `Ctrl-B` `Ctrl-U`/);
	assert.match(rows.find((r) => r.endsWith('| quit |'))!, /^\| `q` `Ctrl-C` \|/);
});

test("the left-out list is read from test-engines.sh's left_out(): Podman leaves out logs.test.ts, no engine the lifecycle", () => {
	const entries = leftOutFiles();
	assert.ok(entries.some((e) => e.file === 'test/integration/logs.test.ts' && e.engines.join() === 'podman' && /to the second/.test(e.reason)));
	assert.ok(!entries.some((e) => e.file === 'test/integration/lifecycle.test.ts'));
});

test('a block is replaced between its markers only, and missing markers are an error', () => {
	const text = 'a\n<!-- generated:x (npm run docs:generate) -->\nold\n<!-- /generated:x -->\nb\n';
	assert.equal(withBlock(text, 'x', 'new'), 'a\n<!-- generated:x (npm run docs:generate) -->\nnew\n<!-- /generated:x -->\nb\n');
	assert.throws(() => withBlock('no markers', 'x', 'new'), /no <!-- generated:x/);
	assert.deepEqual(generatedBlocks.map((b) => `${b.file} ${b.name}`).sort(), ['README.md engine-matrix-left-out', 'README.md keys', 'docs/engines.md engine-matrix-left-out']);
});

/** GitHub's anchor of a heading: lower case, punctuation out, spaces to dashes. */
const slug = (heading: string) =>
	heading
		.toLowerCase()
		.replace(/[^\p{L}\p{N}\s_-]/gu, '')
		.trim()
		.replace(/\s/g, '-');

test('every relative link of README.md, CONTRIBUTING.md and docs/ points at a file that exists, and at one of its headings', () => {
	const files = [
		'README.md',
		'CONTRIBUTING.md',
		...readdirSync(path.join(repoRoot, 'docs'))
			.filter((f) => f.endsWith('.md'))
			.map((f) => `docs/${f}`),
	];
	const broken: string[] = [];
	for (const file of files) {
		const text = readFileSync(path.join(repoRoot, file), 'utf8').replace(/```[\s\S]*?```/g, '');
		for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
			if (/^[a-z]+:/.test(target!)) continue;
			const [where, anchor] = target!.split('#') as [string, string | undefined];
			const linked = where === '' ? path.join(repoRoot, file) : path.resolve(path.dirname(path.join(repoRoot, file)), where);
			if (!existsSync(linked)) {
				broken.push(`${file}: ${target} (no such file)`);
				continue;
			}
			if (
				anchor &&
				!readFileSync(linked, 'utf8')
					.split('\n')
					.some((l) => /^#+ /.test(l) && slug(l.replace(/^#+ /, '')) === anchor)
			)
				broken.push(`${file}: ${target} (no such heading)`);
		}
	}
	assert.deepEqual(broken, []);
});

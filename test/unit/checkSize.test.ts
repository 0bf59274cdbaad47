// scripts/check-size.mjs (run by `npm run lint`): a file of source/ over 350 lines fails unless its
// opening comment says why; tests and shorter files pass; the real tree passes, and fails once one of its
// files grows past the limit without a reason.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repo, 'scripts', 'check-size.mjs');
const dirs: string[] = [];
after(() => {
	for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): string {
	const root = mkdtempSync(path.join(tmpdir(), 'stigmer-size-'));
	dirs.push(root);
	for (const [file, text] of Object.entries(files)) {
		mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
		writeFileSync(path.join(root, file), text);
	}
	return root;
}

function run(root?: string): { status: number | null; stdout: string; stderr: string } {
	const result = spawnSync(process.execPath, root ? [script, root] : [script], { cwd: repo, encoding: 'utf8' });
	return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

/** `n` lines of code after `head` (each a line of its own) */
const body = (head: string, n: number) => `${head}${'export const x = 1;\n'.repeat(n)}`;

test('a file over 350 lines fails, naming its length; one of exactly 350 passes', () => {
	const root = tree({
		'source/engine/long.ts': body('// One job.\n', 350),
		'source/engine/limit.ts': body('// One job.\n', 349),
	});
	const result = run(root);
	assert.equal(result.status, 1);
	const lines = result.stderr.split('\n').filter((line) => line.startsWith('source/'));
	assert.deepEqual(lines, ['source/engine/long.ts: 351 lines (over 350, and no "Over 350 lines:" reason at its top)']);
});

test('a reason in the opening comment lets it pass; the same words further down do not; tests are not counted', () => {
	const root = tree({
		'source/a/reasoned.ts': body('// One state machine.\n//\n// Over 350 lines: its transitions share every field.\nimport x from "y";\n', 360),
		'source/a/late.ts': `${body('// One job.\n', 360)}// Over 350 lines: said too late\n`,
		'source/a/block.tsx': body('/**\n * A table.\n * Over 350 lines: one table of keys.\n */\n', 360),
		'source/a/long.test.ts': body('', 500),
	});
	const result = run(root);
	assert.equal(result.status, 1);
	const lines = result.stderr.split('\n').filter((line) => line.startsWith('source/'));
	assert.deepEqual(lines, ['source/a/late.ts: 362 lines (over 350, and no "Over 350 lines:" reason at its top)']);
});

test('the real tree passes, and fails once one of its files grows past 350 lines without a reason', () => {
	const clean = run();
	assert.equal(clean.status, 0, clean.stderr);
	const root = mkdtempSync(path.join(tmpdir(), 'stigmer-size-'));
	dirs.push(root);
	cpSync(path.join(repo, 'source'), path.join(root, 'source'), { recursive: true });
	const file = path.join(root, 'source', 'stack', 'start.ts');
	const lines = readFileSync(file, 'utf8').split('\n').length;
	appendFileSync(file, '// more\n'.repeat(352 - lines));
	const grown = run(root);
	assert.equal(grown.status, 1);
	assert.match(grown.stderr, /^source\/stack\/start\.ts: 351 lines \(over 350/m);
});

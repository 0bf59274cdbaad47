// scripts/check-layers.mjs (run by `npm run lint`): fixture trees in a temp dir with imports against
// the layer rule fail with one line each; the real tree passes, with no exceptions, and fails as soon
// as one of its own files imports from above.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const script = path.join(repo, 'scripts', 'check-layers.mjs');
const dirs: string[] = [];
after(() => {
	for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** A repository with these files (paths under it) and the check's answer on it. */
function check(files: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
	const root = mkdtempSync(path.join(tmpdir(), 'stigmer-layers-'));
	dirs.push(root);
	for (const [file, text] of Object.entries(files)) {
		mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
		writeFileSync(path.join(root, file), text);
	}
	const run = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
	return { status: run.status, stdout: run.stdout, stderr: run.stderr };
}

/** The violations the check prints for a tree that fails it. */
function violations(files: Record<string, string>): string[] {
	const run = check(files);
	assert.equal(run.status, 1, run.stdout);
	return run.stderr.split('\n').filter((line) => line.startsWith('source/'));
}

test('the real tree passes with no exceptions, and fails once one of its engine files imports the stack', () => {
	const run = spawnSync(process.execPath, [script], { cwd: repo, encoding: 'utf8' });
	assert.equal(run.status, 0, run.stderr);
	assert.equal(run.stderr, '');
	const root = mkdtempSync(path.join(tmpdir(), 'stigmer-layers-'));
	dirs.push(root);
	cpSync(path.join(repo, 'source'), path.join(root, 'source'), { recursive: true });
	appendFileSync(path.join(root, 'source', 'engine', 'DockerApi.ts'), "\nexport { startStack } from '../stack/start.js';\n");
	const broken = spawnSync(process.execPath, [script, root], { encoding: 'utf8' });
	assert.equal(broken.status, 1);
	assert.match(
		broken.stderr,
		/^source\/engine\/DockerApi\.ts imports source\/stack\/start\.ts \(engine may not import stack: stack is above engine in engine and processes; nothing imports from above\)$/m,
	);
});

test('an upward import fails, one line naming both files and the rule', () => {
	const run = check({
		'source/engine/docker.ts': "import { render } from '../ui/screen.js';\nexport const x = render;\n",
		'source/ui/screen.ts': 'export const render = 1;\n',
	});
	assert.equal(run.status, 1);
	assert.match(run.stderr, /^source\/engine\/docker\.ts imports source\/ui\/screen\.ts \(engine may not import ui: UI is above engine and processes; nothing imports from above\)$/m);
});

test('within the engine layer: upward and sibling imports fail, downward ones pass', () => {
	const lines = violations({
		'source/engine/a.ts': "import { s } from '../stack/s.js';\nimport { c } from '../config/c.js';\nexport const a = s + c;\n",
		'source/stack/s.ts': "import { a } from '../engine/a.js';\nexport const s = a;\n",
		'source/config/c.ts': 'export const c = 1;\n',
		'source/logs/l.ts': "export { p } from '../supervisor/p.js';\n",
		'source/supervisor/p.ts': 'export const p = 1;\n',
	});
	assert.deepEqual(lines, [
		'source/engine/a.ts imports source/stack/s.ts (engine may not import stack: stack is above engine in engine and processes; nothing imports from above)',
		'source/logs/l.ts imports source/supervisor/p.ts (logs may not import supervisor: logs and supervisor are siblings in engine and processes; neither imports the other)',
	]);
});

test('the UI may import types from the engine layer, not values (terminal/ excepted); dynamic imports count, tests do not', () => {
	const lines = violations({
		'source/ui/ok.ts': "import type { Row } from '../stack/row.js';\nimport { type Summary } from '../api/types.js';\nexport type Both = Row | Summary;\n",
		'source/ui/calls.ts': "export async function go() {\n\treturn (await import('../engine/docker.js')).docker;\n}\n",
		'source/ui/calls.test.ts': "import { docker } from '../engine/docker.js';\nvoid docker;\n",
		'source/stack/row.ts': 'export type Row = { name: string };\n',
		'source/api/types.ts': 'export type Summary = { id: string };\n',
		'source/engine/docker.ts': 'export const docker = 1;\n',
		'source/ui/width.ts': "import { cellWidth } from '../terminal/cellWidth.js';\nexport const w = cellWidth;\n",
		'source/terminal/cellWidth.ts': 'export const cellWidth = 1;\n',
	});
	assert.deepEqual(lines, [
		'source/ui/calls.ts imports source/engine/docker.ts (ui may not import engine: the UI reads the store and never calls the engine: it imports only types from the engine and processes layer (terminal/ excepted))',
	]);
});

test('a folder in no layer fails until the table names it', () => {
	const run = check({ 'source/widgets/w.ts': 'export const w = 1;\n' });
	assert.equal(run.status, 1);
	assert.match(run.stderr, /source\/widgets\/ is in no layer: add it to the table of docs\/architecture\.md/);
});

test('the rule table allows no pair of folders to import each other', async () => {
	const rules = (await import(pathToFileURL(script).href)) as { layers: { ranks: string[][] }[]; forbidden(from: string, to: string, typeOnly: boolean): string | null };
	const units = rules.layers.flatMap((layer) => layer.ranks.flat());
	assert.ok(units.length > 15);
	for (const a of units) {
		for (const b of units) {
			if (a === b) continue;
			assert.ok(rules.forbidden(a, b, true) !== null || rules.forbidden(b, a, true) !== null, `${a} and ${b} may import each other`);
		}
	}
});

test("docs/architecture.md's layer table is the script's, rank by rank, and names every folder and file of source/", async () => {
	const rules = (await import(pathToFileURL(script).href)) as { layers: { layer: string; ranks: string[][] }[] };
	const doc = readFileSync(path.join(repo, 'docs', 'architecture.md'), 'utf8');
	const start = doc.indexOf('## Layers in `source/`');
	const section = doc.slice(start, doc.indexOf('\n## ', start));
	const rows = section
		.split('\n')
		.filter((line) => /^\| [a-zA-Z]/.test(line) && !line.startsWith('| layer |'))
		.map((line) => line.split(' | '));
	const table = rows.map(([layer, folders]) => ({
		layer: layer!.replace(/^\| /, ''),
		// ranks are separated by semicolons, siblings by commas; a unit is the first `code` of its part
		ranks: folders!.split(';').map((rank) => rank.split(/,(?![^(]*\))/).map((unit) => /`([^`]+)`/.exec(unit)![1]!)),
	}));
	assert.deepEqual(table, rules.layers);
	const units = readdirSync(path.join(repo, 'source'), { withFileTypes: true })
		.filter((e) => e.isDirectory() || (/\.tsx?$/.test(e.name) && !/\.test\.tsx?$/.test(e.name)))
		.map((e) => (e.isDirectory() ? `${e.name}/` : e.name))
		.sort();
	assert.deepEqual(rules.layers.flatMap((l) => l.ranks.flat()).sort(), units);
});

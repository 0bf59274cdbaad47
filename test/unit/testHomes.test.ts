// CONTRIBUTING.md's rule for where a test lives ("Tests"), checked: a test of test/unit/ whose only code
// under test is one module of source/ (no second module, no test helper such as the CLI runner, no
// script) belongs beside that module; a test beside a module in source/ never runs stigmer as a process
// (test/helpers/cli.ts), which is test/'s.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

function testFiles(dir: string): string[] {
	const out: string[] = [];
	for (const entry of readdirSync(dir)) {
		const full = path.join(dir, entry);
		if (statSync(full).isDirectory()) out.push(...testFiles(full));
		else if (/\.test\.tsx?$/.test(entry)) out.push(full);
	}
	return out;
}

/** The repository files a test imports (statements at the start of a line: not code inside its strings). */
function importedFiles(file: string, text: string): string[] {
	const specs = [...text.matchAll(/^(?:import|export)\b[^'"\n]*?\bfrom\s*'(\.[^']+)'/gm), ...text.matchAll(/^\s*(?:const|let|await)\b[^\n]*?\bimport\('(\.[^']+)'\)/gm)].map((m) => m[1]!);
	return [...new Set(specs.map((spec) => path.relative(repo, path.resolve(path.dirname(file), spec)).replace(/\.js$/, '.ts')))];
}

test('a test of test/unit/ drives more than one module of source/, a helper or a script; else it sits beside its module', () => {
	const misplaced: string[] = [];
	for (const file of testFiles(path.join(repo, 'test', 'unit'))) {
		const imported = importedFiles(file, readFileSync(file, 'utf8'));
		const modules = imported.filter((f) => f.startsWith('source/'));
		const others = imported.filter((f) => !f.startsWith('source/'));
		if (modules.length === 1 && others.length === 0) misplaced.push(`${path.relative(repo, file)} tests only ${modules[0]}: move it beside it (git mv)`);
	}
	assert.deepEqual(misplaced, []);
});

test('a test beside its module in source/ does not run stigmer as a process', () => {
	const misplaced: string[] = [];
	for (const file of testFiles(path.join(repo, 'source'))) {
		if (importedFiles(file, readFileSync(file, 'utf8')).includes('test/helpers/cli.ts')) misplaced.push(`${path.relative(repo, file)} runs the CLI: it belongs in test/`);
	}
	assert.deepEqual(misplaced, []);
});

test('imports are read from statements, not from the code a test keeps in its strings', () => {
	const file = path.join(repo, 'test', 'unit', 'x.test.ts');
	const text = ["import { a } from '../../source/engine/a.js';", 'const fixture = "import { b } from \'../../source/engine/b.js\';";', "\tconst { c } = await import('../helpers/cli.ts');"].join('\n');
	assert.deepEqual(importedFiles(file, text), ['source/engine/a.ts', 'test/helpers/cli.ts']);
});

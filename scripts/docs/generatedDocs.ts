// The parts of the docs made from the code, each between marker comments in its markdown file:
// README.md's key table (from source/ui/keyBindings.ts, the table the dashboard dispatches on and its `?`
// help is drawn from) and the list of the test files the engine matrix leaves out, in README.md and
// docs/engines.md (from scripts/test-engines.sh's left_out(), which prints the same reasons when it runs).
// `npm run docs:generate` rewrites them; test/unit/generatedDocs.test.ts fails when one is stale.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { helpLines } from '../../source/ui/keyBindings.ts';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface GeneratedBlock {
	/** the markdown file, relative to the repository */
	file: string;
	/** the marker's name: `<!-- generated:NAME -->` … `<!-- /generated:NAME -->` */
	name: string;
	render: () => string;
}

const cell = (text: string) => text.replaceAll('|', '\\|');

/** README's key table: one row per command of the keymap, in its order. */
export function keyTable(): string {
	const rows = helpLines().map((line) => `| ${line.keys.split(' ').map((k) => `\`${k === '`' ? '` ` `' : k}\``).join(' ')} | ${cell(line.text)} |`);
	return ['| keys | does |', '| --- | --- |', ...rows].join('\n');
}

/** Every engine of the matrix (scripts/test-engines.sh's names) and the files it leaves out, with the reason it prints. */
export function leftOutFiles(): Array<{ file: string; engines: string[]; reason: string }> {
	const script = [
		'set -e',
		'source scripts/test-files.sh',
		// left_out() as the matrix runs it, taken from the script itself
		'eval "$(sed -n \'/^left_out() {$/,/^}$/p\' scripts/test-engines.sh)"',
		'for f in "${engine_test_files[@]}"; do for e in podman docker26 docker28; do',
		'  if r=$(left_out "$e" "$f"); then printf "%s\\t%s\\t%s\\n" "$f" "$e" "$r"; fi',
		'done; done',
	].join('\n');
	const out = execFileSync('bash', ['-c', script], { cwd: repoRoot, encoding: 'utf8' });
	const byFile = new Map<string, { file: string; engines: string[]; reason: string }>();
	for (const line of out.split('\n').filter(Boolean)) {
		const [file, engine, reason] = line.split('\t') as [string, string, string];
		const key = `${file}\t${reason}`;
		const entry = byFile.get(key) ?? { file, engines: [], reason };
		entry.engines.push(engine);
		byFile.set(key, entry);
	}
	return [...byFile.values()];
}

export function leftOutTable(): string {
	const all = ['podman', 'docker26', 'docker28'];
	// one row per reason and engines: the files that share both
	const rows = new Map<string, { files: string[]; engines: string; reason: string }>();
	for (const e of leftOutFiles()) {
		const engines = e.engines.length === all.length ? 'every engine' : e.engines.join(', ');
		const row = rows.get(`${engines}\t${e.reason}`) ?? { files: [], engines, reason: e.reason };
		row.files.push(`\`${path.basename(e.file)}\``);
		rows.set(`${engines}\t${e.reason}`, row);
	}
	const lines = [...rows.values()].map((r) => `| ${r.files.join(', ')} | ${r.engines} | ${cell(r.reason)} |`);
	return ['| test files | left out on | why (as `npm run test:engines` prints it) |', '| --- | --- | --- |', ...lines].join('\n');
}

export const generatedBlocks: GeneratedBlock[] = [
	{ file: 'README.md', name: 'keys', render: keyTable },
	{ file: 'README.md', name: 'engine-matrix-left-out', render: leftOutTable },
	{ file: 'docs/engines.md', name: 'engine-matrix-left-out', render: leftOutTable },
];

/** The file's text with the block between its markers replaced by `content`. */
export function withBlock(text: string, name: string, content: string): string {
	const start = `<!-- generated:${name} (npm run docs:generate) -->`;
	const end = `<!-- /generated:${name} -->`;
	const from = text.indexOf(start);
	const to = text.indexOf(end);
	if (from < 0 || to < from) throw new Error(`no ${start} … ${end} markers`);
	return `${text.slice(0, from + start.length)}\n${content}\n${text.slice(to)}`;
}

/** Each block's file as it is and as it should be. */
export function generatedFiles(): Array<{ file: string; current: string; wanted: string }> {
	const files = new Map<string, { current: string; wanted: string }>();
	for (const block of generatedBlocks) {
		const entry = files.get(block.file) ?? { current: readFileSync(path.join(repoRoot, block.file), 'utf8'), wanted: '' };
		entry.wanted = withBlock(entry.wanted || entry.current, block.name, block.render());
		files.set(block.file, entry);
	}
	return [...files].map(([file, e]) => ({ file, ...e }));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
	for (const { file, current, wanted } of generatedFiles()) {
		if (current === wanted) continue;
		writeFileSync(path.join(repoRoot, file), wanted);
		console.log(`rewrote ${file}`);
	}
}

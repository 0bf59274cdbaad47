// A copy of this checkout's package (sources, build, image context; node_modules linked), standing for
// another stigmer build: another runner, a pinned image. Its CLI runs from the copy, so its package root
// (and with it the image's build context and source hash) is the copy's.
import { spawn } from 'node:child_process';
import { cpSync, existsSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { type CliResult, collect, repoRoot } from './cli.ts';

export function copyPackage(dir: string): string {
	for (const part of ['package.json', 'source', 'dist', 'docker', 'agent-runner']) {
		if (existsSync(path.join(repoRoot, part)))
			cpSync(path.join(repoRoot, part), path.join(dir, part), { recursive: true, filter: (src) => !src.includes('__pycache__') && !src.startsWith(path.join(repoRoot, 'dist', 'bin')) });
	}
	symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'));
	return dir;
}

/** The copy's CLI with `--home home` and `args` (its build, else its sources through tsx). */
export function copyCli(pkg: string, home: string, args: string[], env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
	const entry = existsSync(path.join(pkg, 'dist', 'cli.js')) && !process.env.STIGMER_TEST_FROM_SOURCES ? [path.join(pkg, 'dist', 'cli.js')] : ['--import', 'tsx', path.join(pkg, 'source', 'cli.ts')];
	const child = spawn(process.execPath, [...entry, '--home', home, ...args], { cwd: path.dirname(pkg), env: { ...process.env, NO_COLOR: '1', ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
	return collect(child, 600_000);
}

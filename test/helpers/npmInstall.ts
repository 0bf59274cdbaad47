// `npm pack` of this checkout's build and `npm install -g` of the tarball into a prefix, as a user without
// a checkout would (test/integration/npmPackage.test.ts, bench/binary.ts). The pack runs on a copy with
// prepack's manifest step, not prepack itself: a test must not rebuild dist/ under the other tests.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { type CliResult, collect, repoRoot } from './cli.ts';

/** Node 22 or later: this process's own Node when it is, else the checkout's pinned one (the system's may be 20). */
export const node22Dir = Number(process.versions.node.split('.')[0]) >= 22 ? path.dirname(process.execPath) : path.join(repoRoot, 'node_modules', 'node', 'bin');

/** An environment without npm's own variables, with the prefix's bin/ and Node 22+ first on the PATH. */
export function installEnv(prefix: string, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
	const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('npm_')));
	return { ...clean, PATH: `${path.join(prefix, 'bin')}:${node22Dir}:${process.env.PATH}`, NO_COLOR: '1', ...more };
}

export function runIn(program: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 600_000): Promise<CliResult> {
	return collect(spawn(program, args, { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] }), timeoutMs);
}

export interface Installed {
	tarball: string;
	/** npm install's output (stdout and stderr) */
	output: string;
	/** the installed package's directory and its `stigmer` command */
	root: string;
	bin: string;
}

export interface PackOptions {
	/** a name for this pack's staging directory (several packs in one `dir`) */
	name?: string;
	/** changes the staged copy before it is packed (another version, another runner) */
	edit?: (staging: string) => void;
}

/** Packs this build into `dir` and installs it globally under `prefix`; throws with npm's words on failure. */
export async function packAndInstall(dir: string, prefix: string, env: NodeJS.ProcessEnv, options: PackOptions = {}): Promise<Installed> {
	const staging = path.join(dir, `staging-${options.name ?? 'this'}`);
	for (const part of ['package.json', 'package-lock.json', 'README.md', 'dist', 'docker', 'agent-runner', 'agent-runner-image.json', 'scripts/pack-manifest.mjs']) {
		if (existsSync(path.join(repoRoot, part)))
			cpSync(path.join(repoRoot, part), path.join(staging, part), { recursive: true, filter: (src) => !src.includes('__pycache__') && !src.startsWith(path.join(repoRoot, 'dist', 'bin')) });
	}
	options.edit?.(staging);
	execFileSync(path.join(node22Dir, 'node'), ['scripts/pack-manifest.mjs', 'strip'], { cwd: staging });
	const packed = await runIn('npm', ['pack', '--ignore-scripts', '--pack-destination', dir], staging, env);
	if (packed.code !== 0) throw new Error(`npm pack failed: ${packed.stderr}`);
	const tarball = path.join(dir, packed.stdout.trim().split('\n').at(-1)!);
	mkdirSync(prefix, { recursive: true });
	const installed = await runIn('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-fund', '--no-audit', tarball], dir, env);
	if (installed.code !== 0) throw new Error(`npm install -g failed: ${installed.stderr}`);
	return { tarball, output: `${installed.stdout}\n${installed.stderr}`, root: path.join(prefix, 'lib', 'node_modules', 'stigmer'), bin: path.join(prefix, 'bin', 'stigmer') };
}
